//! The suite format (`docs/suite-format.md`): loading TOML suite files into
//! a validated [`Suite`], with errors that name file:line:column.

mod model;
mod path;

pub use model::*;
pub use path::Path;
