package alerting

import (
	"strings"
	"testing"
)

func TestLinkProblemNamesTheCause(t *testing.T) {
	cases := map[string]string{
		"https://user:pw@tickets.example/x":          "user name or password",
		"https://tickets.example/x?token=abc":        "query string",
		"https://tickets.example/x#access_token=abc": "fragment holds a value",
		"https://tickets.example:abc/OPS-1":          "cannot be read",
		"https://tickets.example/browse/OPS-1#top":   "",
	}
	for link, want := range cases {
		got := linkProblem("see " + link)
		if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
			t.Errorf("linkProblem(%s): got %q, want %q", link, got, want)
		}
	}
}
