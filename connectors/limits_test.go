package connectors

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// oversizedMessage exceeds every kind's limits: a 500-character title, a
// 10,000-character summary, 60 long facts and 200 long items.
func oversizedMessage() Message {
	msg := sampleMessage()
	msg.Title = strings.Repeat("Title ", 100)
	msg.Summary = strings.Repeat("Summary text. ", 715)
	msg.Facts = nil
	for i := range 60 {
		msg.Facts = append(msg.Facts, Fact{Label: fmt.Sprintf("Fact %d", i), Value: strings.Repeat("v", 2500)})
	}
	msg.Items = nil
	for i := range 200 {
		msg.Items = append(msg.Items, Item{Severity: "warning", Title: fmt.Sprintf("Finding %d", i), Detail: strings.Repeat("detail ", 500)})
	}
	msg.OmittedCount = 7
	return prepareMessage(msg, fixedTime)
}

// renderBody renders msg for one kind through the registry's destination.
func renderBody(t *testing.T, kind Kind, msg Message) []byte {
	t.Helper()
	for _, test := range goldenCases {
		if test.kind != kind {
			continue
		}
		registry := newTestRegistry(t, oneConnector(string(kind), test.config), test.env, nil)
		d := registry.destinations[string(kind)]
		rendered, err := d.spec.build(d, msg, fixedTime)
		if err != nil {
			t.Fatalf("build %s: got error %v, want nil", kind, err)
		}
		return rendered.body
	}
	t.Fatalf("no golden case for kind %s", kind)
	return nil
}

func runeCount(text string) int { return utf8.RuneCountInString(text) }

func TestSlackLimits(t *testing.T) {
	msg := oversizedMessage()
	var body struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type     string                  `json:"type"`
			Text     *struct{ Text string }  `json:"text"`
			Fields   []struct{ Text string } `json:"fields"`
			Elements []struct {
				Text any    `json:"text"`
				URL  string `json:"url"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(renderBody(t, KindSlack, msg), &body); err != nil {
		t.Fatalf("decode Slack body: %v", err)
	}

	if got := len(body.Blocks); got > slackMaxBlocks {
		t.Errorf("blocks: got %d, want at most %d", got, slackMaxBlocks)
	}
	if got := runeCount(body.Text); got > slackMaxFallbackText {
		t.Errorf("fallback text length: got %d, want at most %d", got, slackMaxFallbackText)
	}
	if !strings.HasSuffix(body.Text, truncatedMarker) {
		t.Errorf("fallback text: got suffix %q, want the marker %q", lastRunes(body.Text, 20), truncatedMarker)
	}

	header := body.Blocks[0].Text.Text
	if got := runeCount(header); got > slackMaxHeaderText {
		t.Errorf("header length: got %d, want at most %d", got, slackMaxHeaderText)
	}
	if !strings.HasSuffix(header, ellipsis) {
		t.Errorf("header: got suffix %q, want %q", lastRunes(header, 10), ellipsis)
	}
	if summary := body.Blocks[1].Text.Text; !strings.HasSuffix(summary, truncatedMarker) {
		t.Errorf("summary: got suffix %q, want %q", lastRunes(summary, 20), truncatedMarker)
	}

	itemSections := 0
	omittedLineFound := ""
	for i, block := range body.Blocks {
		if block.Text != nil && runeCount(block.Text.Text) > slackMaxSectionText {
			t.Errorf("block %d text length: got %d, want at most %d", i, runeCount(block.Text.Text), slackMaxSectionText)
		}
		if len(block.Fields) > slackMaxFieldsPerBlock {
			t.Errorf("block %d fields: got %d, want at most %d", i, len(block.Fields), slackMaxFieldsPerBlock)
		}
		for j, field := range block.Fields {
			if runeCount(field.Text) > slackMaxFieldText {
				t.Errorf("block %d field %d length: got %d, want at most %d", i, j, runeCount(field.Text), slackMaxFieldText)
			}
		}
		if block.Type == "section" && block.Text != nil && strings.HasPrefix(block.Text.Text, "*[WARNING] Finding") {
			itemSections++
		}
		if block.Type == "context" && len(block.Elements) > 0 {
			if text, ok := block.Elements[0].Text.(string); ok && strings.HasPrefix(text, "and ") {
				omittedLineFound = text
			}
		}
	}
	wantOmitted := fmt.Sprintf("and %d more items not shown", 200-itemSections+7)
	if omittedLineFound != wantOmitted {
		t.Errorf("omitted line: got %q, want %q", omittedLineFound, wantOmitted)
	}
	if itemSections == 0 {
		t.Errorf("item sections: got 0, want as many as fit")
	}
}

func TestSlackOverlongLinkDropsButton(t *testing.T) {
	msg := sampleMessage()
	msg.Link = "https://console.example.test/" + strings.Repeat("a", slackMaxButtonURL)
	msg = prepareMessage(msg, fixedTime)
	var body struct {
		Blocks []struct {
			Type string `json:"type"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(renderBody(t, KindSlack, msg), &body); err != nil {
		t.Fatalf("decode Slack body: %v", err)
	}
	for _, block := range body.Blocks {
		if block.Type == "actions" {
			t.Errorf("blocks: got an actions block, want none for a link over %d characters", slackMaxButtonURL)
		}
	}
}

func TestTeamsLimits(t *testing.T) {
	msg := oversizedMessage()
	encoded := renderBody(t, KindTeams, msg)

	if len(encoded) > teamsMaxBodyBytes {
		t.Errorf("body size: got %d bytes, want at most %d", len(encoded), teamsMaxBodyBytes)
	}
	var body teamsMessage
	if err := json.Unmarshal(encoded, &body); err != nil {
		t.Fatalf("decode Teams body: %v", err)
	}
	elements := body.Attachments[0].Content.Body
	if title := elements[0].Text; !strings.HasSuffix(title, ellipsis) || runeCount(title) > teamsMaxTitle {
		t.Errorf("title: got %d characters ending %q, want at most %d ending %q", runeCount(title), lastRunes(title, 5), teamsMaxTitle, ellipsis)
	}
	items, omitted := 0, ""
	for _, element := range elements {
		if strings.HasPrefix(element.Text, "[WARNING] Finding") {
			items++
		}
		if strings.HasPrefix(element.Text, "and ") {
			omitted = element.Text
		}
	}
	if want := fmt.Sprintf("and %d more items not shown", 200-items+7); omitted != want {
		t.Errorf("omitted line: got %q, want %q", omitted, want)
	}
	if items == 0 {
		t.Errorf("items shown: got 0, want as many as fit")
	}
}

func TestTeamsSmallMessageKeepsItems(t *testing.T) {
	msg := prepareMessage(sampleMessage(), fixedTime)
	var body teamsMessage
	if err := json.Unmarshal(renderBody(t, KindTeams, msg), &body); err != nil {
		t.Fatalf("decode Teams body: %v", err)
	}
	texts := ""
	for _, element := range body.Attachments[0].Content.Body {
		texts += element.Text + "\n"
	}
	for _, want := range []string{"Slack exec channel returns 410", "Jira responses slow", "and 3 more items not shown"} {
		if !strings.Contains(texts, want) {
			t.Errorf("card text: got %q, want it to contain %q", texts, want)
		}
	}
}

func TestTextFieldLimits(t *testing.T) {
	msg := oversizedMessage()
	tests := []struct {
		kind      Kind
		field     func(map[string]any) string
		name      string
		maxLength int
		marker    string
	}{
		{KindDatadog, func(b map[string]any) string { return b["title"].(string) }, "title", datadogMaxTitle, ellipsis},
		{KindDatadog, func(b map[string]any) string { return b["text"].(string) }, "text", datadogMaxText, truncatedMarker},
		{KindJira, func(b map[string]any) string { return b["fields"].(map[string]any)["summary"].(string) }, "summary", jiraMaxSummary, ellipsis},
		{KindJira, func(b map[string]any) string { return b["fields"].(map[string]any)["description"].(string) }, "description", jiraMaxDescription, truncatedMarker},
		{KindServiceNow, func(b map[string]any) string { return b["short_description"].(string) }, "short_description", serviceNowMaxShortDescription, ellipsis},
		{KindServiceNow, func(b map[string]any) string { return b["description"].(string) }, "description", serviceNowMaxDescription, truncatedMarker},
		{KindPagerDuty, func(b map[string]any) string { return b["payload"].(map[string]any)["summary"].(string) }, "summary", pagerDutyMaxSummary, truncatedMarker},
	}
	for _, test := range tests {
		var body map[string]any
		if err := json.Unmarshal(renderBody(t, test.kind, msg), &body); err != nil {
			t.Fatalf("decode %s body: %v", test.kind, err)
		}
		value := test.field(body)
		if got := runeCount(value); got > test.maxLength {
			t.Errorf("%s %s length: got %d, want at most %d", test.kind, test.name, got, test.maxLength)
		}
		if !strings.HasSuffix(value, test.marker) {
			t.Errorf("%s %s: got suffix %q, want the marker %q", test.kind, test.name, lastRunes(value, 20), test.marker)
		}
	}
}

func TestTruncateText(t *testing.T) {
	tests := []struct {
		text      string
		maxLength int
		marker    string
		want      string
	}{
		{"short", 10, ellipsis, "short"},
		{"exactly10!", 10, ellipsis, "exactly10!"},
		{"eleven char", 10, ellipsis, "eleven ch…"},
		{"word and space", 10, ellipsis, "word and…"},
		{"ünïcödé text", 5, ellipsis, "ünïc…"},
		{"anything", 0, ellipsis, ""},
		{"long text here", 3, truncatedMarker, "…"},
	}
	for _, test := range tests {
		if got := truncateText(test.text, test.maxLength, test.marker); got != test.want {
			t.Errorf("truncateText(%q, %d): got %q, want %q", test.text, test.maxLength, got, test.want)
		}
	}
}

func lastRunes(text string, count int) string {
	runes := []rune(text)
	return string(runes[max(len(runes)-count, 0):])
}

// sendOversized sends oversizedMessage through a connector of kind, whose
// URL variable is URL, to a loopback server and returns the one request body
// the server received. secrets sets the connector's other variables.
func sendOversized(t *testing.T, kind Kind, config ConnectorConfig, secrets map[string]string, status int) []byte {
	t.Helper()
	server := newRecordingServer(t, respond(status, "", ""))
	env := map[string]string{"URL": server.URL}
	for name, value := range secrets {
		env[name] = value
	}
	registry := newTestRegistry(t, oneConnector(string(kind), config), env, nil)

	result := registry.Send(context.Background(), string(kind), oversizedMessage(), SendOptions{})

	if !result.Success {
		t.Fatalf("send %s: got class %q, error %q, want success", kind, result.Class, result.Error)
	}
	requests := server.captured()
	if len(requests) != 1 {
		t.Fatalf("requests received: got %d, want 1", len(requests))
	}
	return requests[0].Body
}

// The bound is a literal, not teamsMaxBodyBytes, so that raising the
// constant fails here. Teams rejects messages larger than about 28 KB.
func TestTeamsPostedBodyWithin28000Bytes(t *testing.T) {
	body := sendOversized(t, KindTeams, ConnectorConfig{URLEnv: "URL"}, nil, http.StatusAccepted)

	if len(body) > 28000 {
		t.Errorf("posted body size: got %d bytes, want at most 28000", len(body))
	}
	var card teamsMessage
	if err := json.Unmarshal(body, &card); err != nil {
		t.Fatalf("decode Teams body: %v", err)
	}
	summary, omitted := "", ""
	for _, element := range card.Attachments[0].Content.Body {
		if strings.HasPrefix(element.Text, "Summary text.") {
			summary = element.Text
		}
		if strings.HasPrefix(element.Text, "and ") && strings.HasSuffix(element.Text, " more items not shown") {
			omitted = element.Text
		}
	}
	if !strings.HasSuffix(summary, "… (truncated)") {
		t.Errorf("summary: got suffix %q, want the marker %q", lastRunes(summary, 20), "… (truncated)")
	}
	if omitted == "" {
		t.Errorf("card: got no \"and N more items not shown\" line, want one for the items left out")
	}
}

// The bound is a literal, not datadogMaxText: 4000 characters is the limit
// the product sets for the text of a Datadog event.
func TestDatadogPostedTextWithin4000Characters(t *testing.T) {
	body := sendOversized(t, KindDatadog, ConnectorConfig{URLEnv: "URL", APIKeyEnv: "API_KEY"},
		map[string]string{"API_KEY": "dd-key"}, http.StatusAccepted)

	var event struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(body, &event); err != nil {
		t.Fatalf("decode Datadog body: %v", err)
	}
	if got := runeCount(event.Text); got > 4000 {
		t.Errorf("text length: got %d characters, want at most 4000", got)
	}
	if !strings.HasSuffix(event.Text, "… (truncated)") {
		t.Errorf("text: got suffix %q, want the marker %q", lastRunes(event.Text, 20), "… (truncated)")
	}
}

func TestLimitKey(t *testing.T) {
	short := "alert-2026-01-02-critical"
	checkEqual(t, "short key", limitKey(short, 100), short)
	exact := strings.Repeat("k", 100)
	checkEqual(t, "key of max length", limitKey(exact, 100), exact)

	prefix := strings.Repeat("p", 260)
	first, second := limitKey(prefix+":slack", 255), limitKey(prefix+":teams", 255)
	if first == second {
		t.Errorf("keys differing after the cut: both became %q", first)
	}
	checkEqual(t, "cut key length", runeCount(first), 255)
	checkEqual(t, "cut key start", first[:200], prefix[:200])
	checkEqual(t, "cut key stable", limitKey(prefix+":slack", 255), first)

	multibyte := limitKey(strings.Repeat("é", 150), 100)
	checkEqual(t, "multibyte key length", runeCount(multibyte), 100)
	checkEqual(t, "multibyte key valid UTF-8", utf8.ValidString(multibyte), true)
}

func TestLongKeysStayDistinct(t *testing.T) {
	prefix := strings.Repeat("p", 260)
	tests := []struct {
		kind  Kind
		field string
		max   int
	}{
		{KindPagerDuty, "dedup_key", 255},
		{KindDatadog, "aggregation_key", 100},
		{KindServiceNow, "correlation_id", 100},
		{KindJira, "label", 255},
	}
	for _, test := range tests {
		keys := map[string]bool{}
		for _, suffix := range []string{":slack", ":teams"} {
			msg := sampleMessage()
			msg.IdempotencyKey = prefix + suffix
			var body map[string]any
			if err := json.Unmarshal(renderBody(t, test.kind, msg), &body); err != nil {
				t.Fatalf("decode %s body: %v", test.kind, err)
			}
			key, _ := body[test.field].(string)
			if test.kind == KindJira {
				labels := body["fields"].(map[string]any)["labels"].([]any)
				key, _ = labels[len(labels)-1].(string)
			}
			if got := runeCount(key); got > test.max {
				t.Errorf("%s key length: got %d, want at most %d", test.kind, got, test.max)
			}
			keys[key] = true
		}
		checkEqual(t, string(test.kind)+" distinct keys", len(keys), 2)
	}
}
