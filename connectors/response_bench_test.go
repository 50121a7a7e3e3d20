package connectors

import (
	"strings"
	"testing"
)

// BenchmarkResponseScrub scrubs a 200 KB page that holds no secret, the
// usual case, with the secrets of the make run configuration.
func BenchmarkResponseScrub(b *testing.B) {
	scrubber := NewRedactor(
		"http://127.0.0.1:8090/webhook/hooks/local", "whsec_bG9jYWwtZGV2ZWxvcG1lbnQtc2lnbmluZy1zZWNyZXQ=",
		"http://127.0.0.1:8090/slack/services/T000/B000/Lr7dQ2vX9kM4pT8wN3bZ6cHj", "http://127.0.0.1:8090/teams/workflows/local",
		"http://127.0.0.1:8090/fail/503/webhook", "local-receiver-token",
	).ResponseScrubber()
	row := `<tr class="border-t"><td class="px-2 py-1 font-mono">dlv_01kjpwf170t1n40rtxrxx3wkre</td><td>slack</td><td>failed · 503 · server_error</td><td>2026-05-01 10:19 UTC · by release.manager</td></tr>` + "\n"
	page := strings.Repeat(row, 200_000/len(row))
	b.SetBytes(int64(len(page)))
	b.ResetTimer()
	for b.Loop() {
		if _, changed, complete := scrubber.Scrub(page); changed || !complete {
			b.Fatal("the page changed")
		}
	}
}
