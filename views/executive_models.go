package views

import (
	"fmt"
	"strconv"
)

// ExecutiveReportView is an executive recovery report ready to show.
type ExecutiveReportView struct {
	// ReportID is empty for the unsaved preview of the current evidence.
	ReportID       string
	Status         string
	BusinessImpact string
	GeneratedAt    string
	PeriodLabel    string
	PeriodDays     int
	SLOMinutes     int
	Actor          string
	Summary        []CountView
	Risks          []RiskView
	Providers      []ProviderRowView
	Trend          TrendChart
	Actions        []string
	Evidence       []CountView
}

// RiskView is one key risk.
type RiskView struct {
	Category  string
	Severity  string
	Title     string
	Detail    string
	Providers string
}

// ProviderRowView is one row of the provider table.
type ProviderRowView struct {
	Provider   string
	Status     string
	Executions int
	Delivered  int
	Failed     int
	Skipped    int
	Recoveries int
	Closed     int
	Open       int
	Breached   int
}

// ExecutiveRunView is one schedule run.
type ExecutiveRunView struct {
	RunID        string
	ReportID     string
	Status       string
	Cadence      string
	Interval     string
	Enabled      bool
	Window       string
	CreatedAt    string
	Actor        string
	KeyRiskCount int
	Breaches     int
	// Sent and Failed count the run's completed deliveries.
	Sent   int
	Failed int
}

// ExecutiveRunsPage is the list of schedule runs.
type ExecutiveRunsPage struct {
	Runs   []ExecutiveRunView
	Total  int64
	Limit  int
	Offset int
	PageLinks
}

// ExecutiveConsoleView is the executive report section of the console.
type ExecutiveConsoleView struct {
	// Destinations are the enabled connector names.
	Destinations []string
	// NotReady maps each destination that cannot receive a report now to
	// the reason, so the form offers it disabled.
	NotReady map[string]string
	// DeliverRetries and DeliverTimeoutSeconds are the deliver form's
	// defaults, and DeliverMaxDuration how long a delivery with them can
	// take, such as "34s".
	DeliverRetries        int
	DeliverTimeoutSeconds string
	DeliverMaxDuration    string
	LatestRun             *ExecutiveRunView
	// CanSend is false when no destination is configured.
	CanSend bool
	// MayRead is true when the user's role may read reports.
	MayRead bool
	// ScheduleBlockedReason and DeliverBlockedReason are the reasons the
	// user's role may not schedule or deliver reports, shown under the
	// disabled forms. They are empty when the role may.
	ScheduleBlockedReason string
	DeliverBlockedReason  string
}

// ExecutiveDeliveryView is the outcome of one delivery.
type ExecutiveDeliveryView struct {
	DeliveryID string
	Provider   string
	Kind       string
	Success    bool
	StatusCode int
	Class      string
	Attempts   int
	Error      string
	// ExistingRecord is the issue or record an earlier attempt created,
	// which the delivery found instead of creating another.
	ExistingRecord string
}

// ExecutiveDeliverResultView is the result fragment of a delivery request.
type ExecutiveDeliverResultView struct {
	RunID      string
	ReportID   string
	Success    bool
	Deliveries []ExecutiveDeliveryView
}

// TrendDay is one day of the closure trend.
type TrendDay struct {
	Date   string // YYYY-MM-DD
	Closed int
	Other  int
}

// TrendChart is the closure-trend chart laid out for inline SVG: stacked
// bars of closing closures (resolved, mitigated) and other closures per day.
type TrendChart struct {
	Width, Height int
	Days          []TrendBar
	Ticks         []TrendTick
	// PlotTop, PlotBottom and PlotLeft bound the plot area.
	PlotTop, PlotBottom, PlotLeft, PlotRight int
	Description                              string
	Total                                    int
}

// TrendBar is one day's bar.
type TrendBar struct {
	Date            string
	Label           string // MM-DD under the bar
	ShowLabel       bool
	Closed, Other   int
	X, BarWidth     int
	ClosedY         int
	ClosedHeight    int
	OtherY          int
	OtherHeight     int
	ValueY          int
	CenterX         int
	Total           int
	AccessibleLabel string
}

// TrendTick is one y-axis gridline with its label.
type TrendTick struct {
	Y     int
	Label string
}

// NewTrendChart lays out days as a bar chart of 640 × 220 user units.
// Labels under the bars are thinned so at most about 14 are shown.
func NewTrendChart(days []TrendDay) TrendChart {
	chart := TrendChart{Width: 640, Height: 220, PlotTop: 16, PlotBottom: 180, PlotLeft: 40, PlotRight: 630}
	maxValue := 0
	for _, day := range days {
		maxValue = max(maxValue, day.Closed+day.Other)
		chart.Total += day.Closed + day.Other
	}
	scaleMax := niceCeiling(maxValue)
	plotHeight := chart.PlotBottom - chart.PlotTop
	for _, value := range []int{0, scaleMax / 2, scaleMax} {
		if value == scaleMax/2 && (scaleMax%2 != 0 || scaleMax < 2) {
			continue
		}
		chart.Ticks = append(chart.Ticks, TrendTick{Y: chart.PlotBottom - value*plotHeight/scaleMax, Label: strconv.Itoa(value)})
	}

	if len(days) == 0 {
		chart.Description = "No days in the period."
		return chart
	}
	slot := (chart.PlotRight - chart.PlotLeft) / len(days)
	barWidth := max(slot*6/10, 1)
	every := (len(days) + 13) / 14
	for i, day := range days {
		x := chart.PlotLeft + i*slot + (slot-barWidth)/2
		closedHeight := day.Closed * plotHeight / scaleMax
		otherHeight := day.Other * plotHeight / scaleMax
		bar := TrendBar{
			Date: day.Date, Closed: day.Closed, Other: day.Other, Total: day.Closed + day.Other,
			X: x, BarWidth: barWidth, CenterX: x + barWidth/2,
			ClosedY: chart.PlotBottom - closedHeight, ClosedHeight: closedHeight,
			OtherY: chart.PlotBottom - closedHeight - otherHeight, OtherHeight: otherHeight,
			ShowLabel:       i%every == 0 || i == len(days)-1,
			AccessibleLabel: fmt.Sprintf("%s: %d closed (resolved or mitigated), %d other", day.Date, day.Closed, day.Other),
		}
		if len(day.Date) == len("2006-01-02") {
			bar.Label = day.Date[5:]
		}
		bar.ValueY = bar.OtherY - 4
		chart.Days = append(chart.Days, bar)
	}
	chart.Description = fmt.Sprintf("%d recovery closures from %s to %s, per UTC day; green is resolved or mitigated, amber is any other state.",
		chart.Total, days[0].Date, days[len(days)-1].Date)
	return chart
}

// niceCeiling rounds a maximum up to an even, round value of at least 2,
// so the y axis can be labelled 0, half and top.
func niceCeiling(value int) int {
	if value <= 2 {
		return 2
	}
	for _, step := range []int{4, 6, 8, 10, 20, 50, 100, 200, 500, 1000} {
		if value <= step {
			return step
		}
	}
	return (value + 1999) / 2000 * 2000
}

// generatedBy renders the generation time, followed by the actor when known.
func generatedBy(v ExecutiveReportView) string {
	if v.Actor == "" {
		return v.GeneratedAt
	}
	return v.GeneratedAt + " by " + v.Actor
}
