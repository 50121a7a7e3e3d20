package connectors

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// slackSpec posts Block Kit messages to a Slack incoming webhook.
var slackSpec = kindSpec{
	required:       [][]secretRole{{roleURL}},
	secretSegments: slackSecretSegments,
	build:          buildSlackRequest,
	classify:       classifySlackResponse,
}

// slackSecretSegments returns the segments of a Slack webhook path that
// follow a team ID: the channel ID and token of an incoming webhook
// (/services/T…/B…/<token>) and the IDs and token of a workflow webhook
// (/triggers/T…/… or /workflows/T…/…, or E… for an Enterprise Grid). These are credentials even when they
// are words, though isCredentialSegment takes such a word for prose. A path
// without a team ID after those markers, such as /services/notifications,
// has none, so its words stay usable in notes and its credential-like
// segments are still found by their shape.
func slackSecretSegments(u *url.URL) []string {
	segments := slices.DeleteFunc(strings.Split(u.Path, "/"), func(segment string) bool { return segment == "" })
	for i := 0; i+1 < len(segments); i++ {
		if !slackTeamIDPattern.MatchString(segments[i+1]) {
			continue
		}
		switch strings.ToLower(segments[i]) {
		case "services":
			return slices.Clone(segments[i+1 : min(i+4, len(segments))])
		case "triggers", "workflows":
			return slices.Clone(segments[i+1:])
		}
	}
	return nil
}

// slackTeamIDPattern matches a Slack team (workspace) ID, such as T0123ABCD,
// an Enterprise Grid organisation ID, such as E0123ABCD, and the
// placeholders T000 and T0 of sample URLs.
var slackTeamIDPattern = regexp.MustCompile(`^[TE][A-Z0-9]*$`)

// Block Kit limits, in characters, from the Slack Block Kit reference.
const (
	slackMaxBlocks          = 50
	slackMaxHeaderText      = 150
	slackMaxSectionText     = 3000
	slackMaxFieldsPerBlock  = 10
	slackMaxFieldText       = 2000
	slackMaxButtonText      = 75
	slackMaxButtonURL       = 3000
	slackMaxContextText     = 2000
	slackMaxFallbackText    = 3000
	slackMaxFactFieldBlocks = 5 // facts beyond 5 sections of 10 fields are cut
)

// slackWebhookBody is the JSON body of an incoming webhook request.
type slackWebhookBody struct {
	Text   string        `json:"text"` // notification and accessibility fallback
	Blocks []slack.Block `json:"blocks"`
}

func buildSlackRequest(d *destination, msg Message, _ time.Time) (*outboundRequest, error) {
	encoded, err := marshalJSON(slackWebhookBody{
		Text:   slackFallbackText(msg),
		Blocks: slackBlocks(msg),
	})
	if err != nil {
		return nil, err
	}
	return newJSONRequest(d, d.endpoint.String(), encoded), nil
}

func slackFallbackText(msg Message) string {
	text := msg.Title
	if msg.Summary != "" {
		text += ": " + msg.Summary
	}
	return truncateText(text, slackMaxFallbackText, truncatedMarker)
}

// slackBlocks lays out the message: header, level and summary, facts as
// fields, one section per item, an "and N more" line, the link button and
// a footer. Items that do not fit in 50 blocks are counted as omitted.
func slackBlocks(msg Message) []slack.Block {
	header := slack.NewHeaderBlock(slackPlainText(truncateText(msg.Title, slackMaxHeaderText, ellipsis)))
	summary := fmt.Sprintf("*%s %s*", slackLevelEmoji(msg.Level), slackEscape(levelLabel(msg.Level)))
	if msg.Summary != "" {
		summary += "\n" + slackEscape(msg.Summary)
	}
	blocks := []slack.Block{
		header,
		slack.NewSectionBlock(slackMarkdown(truncateText(summary, slackMaxSectionText, truncatedMarker)), nil, nil),
	}
	blocks = append(blocks, slackFactBlocks(msg.Facts)...)

	var tail []slack.Block
	// A cut URL would lead somewhere else, so a link over the limit gets no button.
	if msg.Link != "" && len(msg.Link) <= slackMaxButtonURL {
		button := slack.NewButtonBlockElement("open_link", "", slackPlainText(truncateText(msg.LinkText, slackMaxButtonText, ellipsis)))
		tail = append(tail, slack.NewActionBlock("", button.WithURL(msg.Link)))
	}
	footer := fmt.Sprintf("%s · %s", eventLabel(msg.Event), formatTime(msg.OccurredAt))
	tail = append(tail, slack.NewContextBlock("", slackMarkdown(slackEscape(footer))))

	items := msg.Items
	omitted := msg.OmittedCount
	if len(items) > 0 {
		// Reserve the divider and the "and N more" line before counting
		// how many item sections still fit.
		room := slackMaxBlocks - len(blocks) - len(tail) - 2
		if len(items) > room {
			omitted += len(items) - max(room, 0)
			items = items[:max(room, 0)]
		}
		blocks = append(blocks, slack.NewDividerBlock())
	}
	for _, item := range items {
		blocks = append(blocks, slack.NewSectionBlock(slackMarkdown(slackItemText(item)), nil, nil))
	}
	if line := omittedLine(omitted); line != "" {
		blocks = append(blocks, slack.NewContextBlock("", slackMarkdown(slackEscape(line))))
	}
	return append(blocks, tail...)
}

// slackFactBlocks returns sections of at most ten fields each.
func slackFactBlocks(facts []Fact) []slack.Block {
	maxFacts := slackMaxFieldsPerBlock * slackMaxFactFieldBlocks
	var fields []*slack.TextBlockObject
	for i, fact := range facts {
		if i == maxFacts-1 && len(facts) > maxFacts {
			note := fmt.Sprintf("_%d more facts not shown_ %s", len(facts)-i, truncatedMarker)
			fields = append(fields, slackMarkdown(note))
			break
		}
		text := fmt.Sprintf("*%s*\n%s", slackEscape(fact.Label), slackEscape(fact.Value))
		fields = append(fields, slackMarkdown(truncateText(text, slackMaxFieldText, truncatedMarker)))
	}

	var blocks []slack.Block
	for start := 0; start < len(fields); start += slackMaxFieldsPerBlock {
		end := min(start+slackMaxFieldsPerBlock, len(fields))
		blocks = append(blocks, slack.NewSectionBlock(nil, fields[start:end], nil))
	}
	return blocks
}

func slackItemText(item Item) string {
	title := slackEscape(strings.TrimSpace(item.Title))
	if severity := strings.TrimSpace(item.Severity); severity != "" {
		title = fmt.Sprintf("[%s] %s", slackEscape(strings.ToUpper(severity)), title)
	}
	text := "*" + title + "*"
	if detail := strings.TrimSpace(item.Detail); detail != "" {
		text += "\n" + slackEscape(detail)
	}
	return truncateText(text, slackMaxSectionText, truncatedMarker)
}

func slackLevelEmoji(level string) string {
	switch styleOf(level) {
	case styleCritical:
		return ":red_circle:"
	case styleWarning:
		return ":large_orange_circle:"
	case styleHealthy:
		return ":large_green_circle:"
	}
	return ":white_circle:"
}

func slackPlainText(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, text, true, false)
}

func slackMarkdown(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, false)
}

// slackEscape escapes the three characters that Slack mrkdwn treats as markup.
func slackEscape(text string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
}

// classifySlackResponse accepts the body "ok" that Slack incoming webhooks
// return, the {"ok":true} of Slack API-style receivers, and any 2xx with an
// empty body. A 2xx with any other body is a client error: it does not come
// from a Slack webhook that accepted the message, for example a proxy login
// page, and repeating the request does not change that.
func classifySlackResponse(sent *outboundRequest, statusCode int, body []byte) (Class, string) {
	class, problem := classifyStatus(sent, statusCode, body)
	if class != ClassOK {
		return class, problem
	}
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" || trimmed == "ok" {
		return ClassOK, ""
	}
	var apiResponse struct {
		OK bool `json:"ok"`
	}
	if json.Unmarshal(body, &apiResponse) == nil && apiResponse.OK {
		return ClassOK, ""
	}
	return ClassClientError, fmt.Sprintf("Slack returned HTTP %d without the body \"ok\", so the message was not accepted", statusCode)
}
