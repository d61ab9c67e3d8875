//! The `enqueue` item: the routes that send a task to a queue.
//!
//! ```text
//! enqueue_decl = { "enqueue" ~ "{" ~ route* ~ "}" }
//! route        = { (catch_all | expr) ~ "->" ~ ident ~ ((idle_cpu ~ within?) | kick)? }
//! within       = { "in" ~ ident }
//! catch_all    = { "else" }
//! ```

use pest::iterators::{Pair, Pairs};

use super::builder::Builder;
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn enqueue(&self, children: Pairs<Rule>) -> ItemKind {
        ItemKind::Enqueue { routes: children.map(|r| self.route(r)).collect() }
    }

    fn route(&self, pair: Pair<Rule>) -> Route {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let first = inner.next().expect("route condition");
        let condition = (first.as_rule() != Rule::catch_all).then(|| self.expr(first));
        let queue = self.ident(inner.next().expect("route queue"));
        let modifier = inner.next().map(|m| m.as_rule());
        let idle_within = inner.next().map(|w| self.ident(w.into_inner().next().expect("set after in")));
        let (kick, idle) = (modifier == Some(Rule::kick), modifier == Some(Rule::idle_cpu));
        Route { condition, queue, kick, idle, idle_within, span }
    }
}
