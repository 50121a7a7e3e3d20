package models

// RenderedMigrations exposes the migrations rendered for a dialect to the
// tests of this package.
var RenderedMigrations = renderedMigrations
