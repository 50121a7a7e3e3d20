package models

// RenderedMigrations exposes the migrations rendered for a dialect to the
// tests of this package.
var RenderedMigrations = renderedMigrations

// HoldFileLock exposes the SQLite selection lock file to the tests of this
// package, so they can take it as another process would.
var HoldFileLock = holdFileLock
