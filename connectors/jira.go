package connectors

import (
	"regexp"
	"strings"
	"time"
)

// jiraSpec creates an issue through the Jira REST API, version 2 (plain-text
// description) or 3 (Atlassian Document Format description).
//
// NOTE: Jira has no idempotency key, so a retry after a timeout whose first
// request did reach Jira creates a second issue. Both carry the label
// derived from Message.IdempotencyKey.
var jiraSpec = kindSpec{
	required:      [][]secretRole{{roleURL}, {roleToken, roleAuthorization}},
	settings:      []string{"project_key", "issue_type", "api_version"},
	defaultScheme: "Bearer",
	validate:      validateJiraConfig,
	build:         buildJiraRequest,
}

// Jira limits: the summary field takes at most 255 characters and a v2
// text field at most 32767.
const (
	jiraMaxSummary     = 255
	jiraMaxDescription = 32000
	jiraDefaultType    = "Task"
)

var (
	jiraProjectKeyPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,254}$`)
	jiraLabelPattern      = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)
)

func validateJiraConfig(name string, cfg ConnectorConfig) error {
	switch {
	case cfg.ProjectKey == "":
		return fieldError(name, "project_key", "missing; set the key of the project that receives issues, such as OPS")
	case !jiraProjectKeyPattern.MatchString(cfg.ProjectKey):
		return fieldError(name, "project_key", "invalid project key %q; use upper-case letters, digits and underscores, starting with a letter", cfg.ProjectKey)
	case strings.ContainsAny(cfg.IssueType, "\r\n") || len(cfg.IssueType) > 255:
		return fieldError(name, "issue_type", "must be a single line of at most 255 characters")
	case cfg.APIVersion != "" && cfg.APIVersion != "2" && cfg.APIVersion != "3":
		return fieldError(name, "api_version", "unknown version %q; use 2 or 3", cfg.APIVersion)
	}
	return nil
}

type jiraIssue struct {
	Fields jiraFields `json:"fields"`
}

type jiraFields struct {
	Project     jiraKey  `json:"project"`
	IssueType   jiraName `json:"issuetype"`
	Summary     string   `json:"summary"`
	Description any      `json:"description"` // string for v2, a document for v3
	Labels      []string `json:"labels"`
}

type jiraKey struct {
	Key string `json:"key"`
}

type jiraName struct {
	Name string `json:"name"`
}

func buildJiraRequest(d *destination, msg Message, _ time.Time) (*outboundRequest, error) {
	version := d.config.APIVersion
	if version == "" {
		version = "2"
	}
	issueType := d.config.IssueType
	if issueType == "" {
		issueType = jiraDefaultType
	}

	description := truncateText(plainText(msg), jiraMaxDescription, truncatedMarker)
	issue := jiraIssue{Fields: jiraFields{
		Project:     jiraKey{Key: d.config.ProjectKey},
		IssueType:   jiraName{Name: issueType},
		Summary:     truncateText(singleLine(msg.Title), jiraMaxSummary, ellipsis),
		Description: description,
		Labels:      jiraLabels(msg),
	}}
	if version == "3" {
		issue.Fields.Description = atlassianDocument(description)
	}
	encoded, err := marshalJSON(issue)
	if err != nil {
		return nil, err
	}

	request := newJSONRequest(d, joinURLPath(d, "/rest/api/"+version+"/issue"), encoded)
	request.header.Set("Accept", "application/json")
	return request, nil
}

// jiraLabels returns labels without spaces, as Jira requires, so that
// operators can find every issue of one delivery.
func jiraLabels(msg Message) []string {
	labels := []string{"evidence-console"}
	for _, value := range []string{msg.Event, msg.IdempotencyKey} {
		label := strings.Trim(jiraLabelPattern.ReplaceAllString(value, "-"), "-")
		if label != "" {
			labels = append(labels, truncateText(label, 255, ""))
		}
	}
	return labels
}

// atlassianDocument wraps plain text in an Atlassian Document Format
// document with one paragraph per block of lines.
func atlassianDocument(text string) map[string]any {
	var paragraphs []any
	for block := range strings.SplitSeq(strings.TrimSpace(text), "\n\n") {
		var content []any
		for i, line := range strings.Split(block, "\n") {
			if i > 0 {
				content = append(content, map[string]any{"type": "hardBreak"})
			}
			if line != "" {
				content = append(content, map[string]any{"type": "text", "text": line})
			}
		}
		paragraphs = append(paragraphs, map[string]any{"type": "paragraph", "content": content})
	}
	return map[string]any{"type": "doc", "version": 1, "content": paragraphs}
}

// joinURLPath appends an API path to the configured base URL.
func joinURLPath(d *destination, path string) string {
	joined := *d.endpoint
	joined.Path = strings.TrimRight(joined.Path, "/") + path
	joined.RawPath = ""
	return joined.String()
}

// singleLine replaces line breaks with spaces.
func singleLine(text string) string {
	return strings.Join(strings.Fields(text), " ")
}
