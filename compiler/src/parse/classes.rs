//! The `class` item: a label tasks can carry.
//!
//! ```text
//! class_decl = { "class" ~ ident ~ string }
//! ```

use pest::iterators::Pairs;

use super::builder::{required, Builder};
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn class(&self, mut children: Pairs<Rule>) -> ItemKind {
        ItemKind::Class { name: self.ident(required(&mut children)), doc: self.string(required(&mut children)) }
    }
}
