//! The `preempt` item: the class whose waking tasks preempt lower classes.
//!
//! ```text
//! preempt_decl = { "preempt" ~ ident }
//! ```

use pest::iterators::Pairs;

use super::builder::{required, Builder};
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn preempt(&self, mut children: Pairs<Rule>) -> ItemKind {
        ItemKind::Preempt { class: self.ident(required(&mut children)) }
    }
}
