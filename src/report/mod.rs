//! Reports of a run: console, JUnit, JSON.
