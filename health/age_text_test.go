package health

import (
	"testing"
	"time"
)

func TestAgeTextSaysOverWhenRounded(t *testing.T) {
	cases := []struct {
		age  time.Duration
		want string
	}{
		{2 * time.Minute, "2 minutes"},
		{2*time.Minute + 5*time.Second, "over 2 minutes"},
		{time.Minute, "1 minute"},
		{time.Minute + time.Microsecond, "over 1 minute"},
		{90 * time.Minute, "90 minutes"},
	}
	for _, tc := range cases {
		if got := AgeText(tc.age); got != tc.want {
			t.Errorf("AgeText(%v) = %q, want %q", tc.age, got, tc.want)
		}
	}
}
