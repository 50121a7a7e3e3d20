package connectors

import (
	"net/url"
	"strings"
	"time"
)

// teamsSpec posts an Adaptive Card to a Microsoft Teams Workflows webhook
// ("When a Teams webhook request is received"), which responds 202 Accepted
// with an empty body.
var teamsSpec = kindSpec{
	required:       [][]secretRole{{roleURL}},
	secretSegments: teamsSecretSegments,
	build:          buildTeamsRequest,
}

// teamsSecretSegments returns the workflow ID between "workflows" and
// "triggers" in a Workflows webhook URL
// (…/workflows/<id>/triggers/manual/paths/invoke), so a word after another
// "workflows" segment stays prose, and the segments after "webhookb2" of a retired Office 365 connector URL
// except the literal "IncomingWebhook". The sig query value, the other
// credential of a Workflows URL, is found by its parameter name.
func teamsSecretSegments(u *url.URL) []string {
	var secrets []string
	segments := strings.Split(u.Path, "/")
	for i, segment := range segments {
		if strings.EqualFold(segment, "workflows") && i+2 < len(segments) && strings.EqualFold(segments[i+2], "triggers") {
			secrets = append(secrets, segments[i+1])
		}
	}
	for _, segment := range segmentsAfter(u, "webhookb2") {
		if !strings.EqualFold(segment, "IncomingWebhook") {
			secrets = append(secrets, segment)
		}
	}
	return secrets
}

// Teams limits. Teams rejects messages larger than about 28 KB, so the
// whole request body is kept under teamsMaxBodyBytes. The per-field limits
// keep one long field from using up that budget.
const (
	teamsMaxBodyBytes   = 28000
	teamsMaxTitle       = 500
	teamsMaxSummary     = 4000
	teamsMaxItem        = 2000
	teamsMaxFactValue   = 1000
	teamsMaxFacts       = 50
	teamsMaxActionTitle = 100
)

type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string       `json:"contentType"`
	ContentURL  *string      `json:"contentUrl"` // always null, as the Workflows examples send it
	Content     adaptiveCard `json:"content"`
}

type adaptiveCard struct {
	Schema  string            `json:"$schema"`
	Type    string            `json:"type"`
	Version string            `json:"version"`
	Body    []adaptiveElement `json:"body"`
	Actions []adaptiveAction  `json:"actions,omitempty"`
	MSTeams map[string]string `json:"msteams,omitempty"`
}

// adaptiveElement is a TextBlock or a FactSet.
type adaptiveElement struct {
	Type      string         `json:"type"`
	Text      string         `json:"text,omitempty"`
	Size      string         `json:"size,omitempty"`
	Weight    string         `json:"weight,omitempty"`
	Color     string         `json:"color,omitempty"`
	Wrap      bool           `json:"wrap,omitempty"`
	IsSubtle  bool           `json:"isSubtle,omitempty"`
	Spacing   string         `json:"spacing,omitempty"`
	Separator bool           `json:"separator,omitempty"`
	Facts     []adaptiveFact `json:"facts,omitempty"`
}

type adaptiveFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type adaptiveAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

func buildTeamsRequest(d *destination, msg Message, _ time.Time) (*outboundRequest, error) {
	encoded, err := renderTeamsBody(msg)
	if err != nil {
		return nil, err
	}
	return newJSONRequest(d, d.endpoint.String(), encoded), nil
}

// renderTeamsBody renders the card and drops items from the end, counting
// them into the "and N more" line, until the body fits teamsMaxBodyBytes.
// If the body is still too large without items, it cuts facts and then the summary.
func renderTeamsBody(msg Message) ([]byte, error) {
	facts := msg.Facts
	summaryLimit := teamsMaxSummary
	render := func(itemCount int) ([]byte, error) {
		omitted := msg.OmittedCount + len(msg.Items) - itemCount
		return marshalJSON(teamsCard(msg, facts, msg.Items[:itemCount], omitted, summaryLimit))
	}

	for {
		encoded, err := render(len(msg.Items))
		if err != nil || len(encoded) <= teamsMaxBodyBytes {
			return encoded, err
		}
		encoded, err = render(0)
		if err != nil {
			return nil, err
		}
		if len(encoded) <= teamsMaxBodyBytes {
			// Binary search for the largest item count that fits; the
			// body grows with every item kept.
			fits, tooMany := 0, len(msg.Items)
			for tooMany-fits > 1 {
				middle := (fits + tooMany) / 2
				candidate, err := render(middle)
				if err != nil {
					return nil, err
				}
				if len(candidate) <= teamsMaxBodyBytes {
					fits, encoded = middle, candidate
				} else {
					tooMany = middle
				}
			}
			return encoded, nil
		}
		switch {
		case len(facts) > 10:
			facts = facts[:10]
		case summaryLimit > 500:
			summaryLimit = 500
		default:
			// Unreachable with the per-field limits above: a title, ten
			// facts and 500 summary characters stay far below the budget.
			return encoded, nil
		}
	}
}

func teamsCard(msg Message, facts []Fact, items []Item, omitted, summaryLimit int) teamsMessage {
	body := []adaptiveElement{
		{
			Type: "TextBlock", Text: truncateText(msg.Title, teamsMaxTitle, ellipsis),
			Size: "Large", Weight: "Bolder", Color: teamsColor(msg.Level), Wrap: true,
		},
		{
			Type: "TextBlock", Text: levelLabel(msg.Level) + " · " + eventLabel(msg.Event),
			Color: teamsColor(msg.Level), Weight: "Bolder", Spacing: "None", Wrap: true,
		},
	}
	if msg.Summary != "" {
		body = append(body, adaptiveElement{Type: "TextBlock", Text: truncateText(msg.Summary, summaryLimit, truncatedMarker), Wrap: true})
	}
	if len(facts) > 0 {
		body = append(body, adaptiveElement{Type: "FactSet", Facts: teamsFacts(facts)})
	}
	for i, item := range items {
		body = append(body, adaptiveElement{
			Type: "TextBlock", Text: truncateText(itemLine(item), teamsMaxItem, truncatedMarker),
			Wrap: true, Separator: i == 0,
		})
	}
	if line := omittedLine(omitted); line != "" {
		body = append(body, adaptiveElement{Type: "TextBlock", Text: line, IsSubtle: true, Wrap: true})
	}
	body = append(body, adaptiveElement{
		Type: "TextBlock", Text: formatTime(msg.OccurredAt), IsSubtle: true, Size: "Small", Wrap: true,
	})

	card := adaptiveCard{
		Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
		Type:    "AdaptiveCard",
		Version: "1.4",
		Body:    body,
		MSTeams: map[string]string{"width": "Full"},
	}
	if msg.Link != "" {
		card.Actions = []adaptiveAction{{
			Type: "Action.OpenUrl", Title: truncateText(msg.LinkText, teamsMaxActionTitle, ellipsis), URL: msg.Link,
		}}
	}
	return teamsMessage{
		Type: "message",
		Attachments: []teamsAttachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content:     card,
		}},
	}
}

func teamsFacts(facts []Fact) []adaptiveFact {
	var result []adaptiveFact
	for i, fact := range facts {
		if i == teamsMaxFacts-1 && len(facts) > teamsMaxFacts {
			result = append(result, adaptiveFact{Title: "More facts", Value: truncatedMarker})
			break
		}
		result = append(result, adaptiveFact{
			Title: truncateText(fact.Label, teamsMaxActionTitle, ellipsis),
			Value: truncateText(fact.Value, teamsMaxFactValue, truncatedMarker),
		})
	}
	return result
}

// teamsColor maps a level to an Adaptive Card text color. Unknown levels
// keep the default color.
func teamsColor(level string) string {
	switch styleOf(level) {
	case styleCritical:
		return "Attention"
	case styleWarning:
		return "Warning"
	case styleHealthy:
		return "Good"
	}
	return "Default"
}
