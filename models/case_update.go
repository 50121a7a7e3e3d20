package models

import (
	"strings"

	"gorm.io/gorm"
)

// typedParam returns the placeholder of a bound parameter of sqlType in a
// place where PostgreSQL cannot infer its type, such as a CASE branch:
// PostgreSQL resolves such a parameter to text, so it gets a cast there.
// SQLite gets the bare placeholder, because a CAST to a timestamp type would
// turn the stored time text into a number.
func typedParam(db *gorm.DB, sqlType string) string {
	if DialectOf(db) == DialectPostgres {
		return "CAST(? AS " + sqlType + ")"
	}
	return "?"
}

// writeCaseByID writes "column = CASE id WHEN ? THEN param … END" for the
// rows ids, binding each row's value(i), so one UPDATE can give every row
// its own value.
func writeCaseByID(query *strings.Builder, args *[]any, column, param string, ids []string, value func(i int) any) {
	query.WriteString(column + " = CASE id")
	for i, id := range ids {
		query.WriteString(" WHEN ? THEN " + param)
		*args = append(*args, id, value(i))
	}
	query.WriteString(" END")
}
