package handlers

import "testing"

func TestInterruptedNoun(t *testing.T) {
	cases := []struct {
		executions, sends int
		want              string
	}{
		{1, 0, "execution is"},
		{3, 0, "executions are"},
		{0, 1, "send is"},
		{0, 2, "sends are"},
		{1, 1, "executions and sends are"},
	}
	for _, c := range cases {
		if got := interruptedNoun(c.executions, c.sends); got != c.want {
			t.Errorf("interruptedNoun(%d, %d) = %q, want %q", c.executions, c.sends, got, c.want)
		}
	}
}
