//! The `scheduler` item: name, description, watchdog timeout and ops flags.
//!
//! ```text
//! scheduler_decl = { "scheduler" ~ ident ~ string ~ timeout? ~ ops_flags? }
//! timeout        = { "timeout" ~ expr }
//! ops_flags      = { "with" ~ ident ~ ("," ~ ident)* }
//! ```

use pest::iterators::Pairs;

use super::builder::{required, Builder};
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn scheduler(&self, mut children: Pairs<Rule>) -> ItemKind {
        let name = self.ident(required(&mut children));
        let description = self.string(required(&mut children));
        let (mut timeout, mut flags) = (None, Vec::new());
        for child in children {
            match child.as_rule() {
                Rule::timeout => timeout = Some(self.expr(child.into_inner().next().expect("timeout value"))),
                _ => flags = child.into_inner().map(|f| self.ident(f)).collect(),
            }
        }
        ItemKind::Scheduler { name, description, timeout, flags }
    }
}
