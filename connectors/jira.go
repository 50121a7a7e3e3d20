package connectors

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// jiraSpec creates an issue through the Jira REST API, version 2 (plain-text
// description) or 3 (Atlassian Document Format description).
//
// Jira has no idempotency key. Each issue carries a label derived from
// Message.IdempotencyKey, and each attempt first searches the project for an
// issue with that label. A retry after a timeout whose first request did
// create the issue therefore finds it instead of creating a second one.
//
// NOTE: Jira's search index can lag a just-created issue by a moment, so a
// retry sent within that moment may not find it.
var jiraSpec = kindSpec{
	addressURL:    true,
	required:      [][]secretRole{{roleURL}, {roleToken, roleAuthorization}},
	settings:      []string{"project_key", "issue_type", "api_version"},
	defaultScheme: "Bearer",
	validate:      validateJiraConfig,
	build:         buildJiraRequest,
	lookup:        buildJiraLookup,
	found:         foundJiraIssue,
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
	lineBreak, hasLineBreak := FirstControlOrSeparator(cfg.IssueType)
	switch {
	case cfg.ProjectKey == "":
		return fieldError(name, "project_key", "missing; set the key of the project that receives issues, such as OPS")
	case !jiraProjectKeyPattern.MatchString(cfg.ProjectKey):
		return fieldError(name, "project_key", "invalid project key %q; use upper-case letters, digits and underscores, starting with a letter", cfg.ProjectKey)
	case hasLineBreak:
		return fieldError(name, "issue_type", "contains the %s; use a single line of text", DescribeControlOrSeparator(lineBreak))
	case len(cfg.IssueType) > 255:
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
		if label := jiraLabel(value); label != "" {
			labels = append(labels, label)
		}
	}
	return labels
}

// jiraLabel turns value into a label: runs of characters that labels may
// not contain become "-", and the result is at most 255 characters. A
// longer label ends with a hash (see limitKey), so the lookup of one
// message does not find the issue of another whose label starts the same.
func jiraLabel(value string) string {
	return limitKey(strings.Trim(jiraLabelPattern.ReplaceAllString(value, "-"), "-"), 255)
}

// buildJiraLookup searches the project for an issue with the label of the
// message's idempotency key. Jira Cloud serves …/search/jql, and Jira
// Data Center, which lacks it, serves /rest/api/2/search, so version 2
// tries the second when the first is not found.
func buildJiraLookup(d *destination, msg Message) ([]*outboundRequest, error) {
	label := jiraLabel(msg.IdempotencyKey)
	if label == "" {
		return nil, nil
	}
	query := url.Values{}
	// The project key and the label hold only characters that need no
	// escaping inside JQL's double quotes.
	query.Set("jql", fmt.Sprintf(`project = "%s" AND labels = "%s"`, d.config.ProjectKey, label))
	query.Set("maxResults", "1")
	query.Set("fields", "key")
	if d.config.APIVersion == "3" {
		return []*outboundRequest{newLookupRequest(d, joinURLPathQuery(d, "/rest/api/3/search/jql", query))}, nil
	}
	return []*outboundRequest{
		newLookupRequest(d, joinURLPathQuery(d, "/rest/api/2/search/jql", query)),
		newLookupRequest(d, joinURLPathQuery(d, "/rest/api/2/search", query)),
	}, nil
}

// foundJiraIssue returns the key, or else the id, of the first issue of a
// search response, or "" when it lists none.
func foundJiraIssue(body []byte) (string, error) {
	var response struct {
		Issues *[]struct {
			Key string `json:"key"`
			ID  string `json:"id"`
		} `json:"issues"`
	}
	if err := json.Unmarshal(body, &response); err != nil {
		return "", fmt.Errorf("search response is not JSON: %w", err)
	}
	if response.Issues == nil {
		return "", errors.New(`search response has no "issues" list`)
	}
	for _, issue := range *response.Issues {
		if issue.Key != "" {
			return issue.Key, nil
		}
		if issue.ID != "" {
			return issue.ID, nil
		}
	}
	if len(*response.Issues) > 0 {
		return "", errors.New("search response lists an issue without a key or an id")
	}
	return "", nil
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

// joinURLPathQuery appends an API path and query parameters to the
// configured base URL, after any query the base URL has.
func joinURLPathQuery(d *destination, path string, query url.Values) string {
	joined := *d.endpoint
	joined.Path = strings.TrimRight(joined.Path, "/") + path
	joined.RawPath = ""
	if joined.RawQuery != "" {
		joined.RawQuery += "&"
	}
	joined.RawQuery += query.Encode()
	return joined.String()
}

// singleLine replaces line breaks with spaces.
func singleLine(text string) string {
	return strings.Join(strings.Fields(text), " ")
}
