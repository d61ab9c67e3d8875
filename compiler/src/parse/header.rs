//! The `scheduler` item: name, description and watchdog timeout.
//!
//! ```text
//! scheduler_decl = { "scheduler" ~ ident ~ string ~ timeout? }
//! timeout        = { "timeout" ~ expr }
//! ```

use pest::iterators::Pairs;

use super::builder::{required, Builder};
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn scheduler(&self, mut children: Pairs<Rule>) -> ItemKind {
        let name = self.ident(required(&mut children));
        let description = self.string(required(&mut children));
        let timeout = children.next().map(|t| self.expr(t.into_inner().next().expect("timeout value")));
        ItemKind::Scheduler { name, description, timeout }
    }
}
