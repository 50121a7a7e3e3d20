package models

import (
	"strings"

	"gorm.io/gorm"
)

// typedParam returns the placeholder of a bound parameter of sqlType in a
// place where PostgreSQL cannot infer its type, such as a CASE branch or a
// VALUES list: PostgreSQL resolves such a parameter to text, so it gets a
// cast there. SQLite gets the bare placeholder, because a CAST to a
// timestamp type would turn the stored time text into a number.
func typedParam(db *gorm.DB, sqlType string) string {
	if DialectOf(db) == DialectPostgres {
		return "CAST(? AS " + sqlType + ")"
	}
	return "?"
}

// rowColumn is one column that an UPDATE built by writeUpdateFromValues
// sets: its name, the placeholder of its bound value and the value of row i.
type rowColumn struct {
	name  string
	param string
	value func(i int) any
}

// writeUpdateFromValues writes
//
//	WITH row_values (id, c1, …) AS (VALUES (?, p1, …), …)
//	UPDATE table SET set, c1 = row_values.c1, … FROM row_values
//	WHERE table.id = row_values.id
//
// for the rows ids, binding each row's values, so one UPDATE gives every row
// its own values. set, which may be empty, assigns the same values to every
// row and binds setArgs. The caller appends further conditions with
// " AND …", naming the table's columns with the table name. A
// join with one VALUES row per id binds each id once, where a CASE per
// column binds it once per column. SQLite parses every statement again on
// each call, so the shorter statement also costs less to prepare there.
// UPDATE … FROM needs SQLite 3.33 or later.
func writeUpdateFromValues(query *strings.Builder, args *[]any, table, set string, setArgs []any, ids []string, columns []rowColumn) {
	query.WriteString("WITH row_values (id")
	for _, column := range columns {
		query.WriteString(", " + column.name)
	}
	query.WriteString(") AS (VALUES ")
	for i, id := range ids {
		if i > 0 {
			query.WriteString(", ")
		}
		query.WriteString("(?")
		*args = append(*args, id)
		for _, column := range columns {
			query.WriteString(", " + column.param)
			*args = append(*args, column.value(i))
		}
		query.WriteString(")")
	}
	query.WriteString(") UPDATE " + table + " SET ")
	if set != "" {
		query.WriteString(set + ", ")
		*args = append(*args, setArgs...)
	}
	for i, column := range columns {
		if i > 0 {
			query.WriteString(", ")
		}
		query.WriteString(column.name + " = row_values." + column.name)
	}
	query.WriteString(" FROM row_values WHERE " + table + ".id = row_values.id")
}
