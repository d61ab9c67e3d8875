//! The `dispatch` item: the queues a CPU serves, in order, with starvation
//! limits, groups of queues served as one, and keeping the previous task.
//!
//! ```text
//! dispatch_decl = { "dispatch" ~ "{" ~ serve+ ~ "}" }
//! serve         = { (earliest | round_robin | keep_running | ident ~ starve?) ~ when? }
//! starve        = { "starve" ~ "after" ~ expr }
//! earliest      = { "earliest" ~ "(" ~ ident ~ ("," ~ ident)+ ~ ")" }
//! round_robin   = { "round_robin" ~ "(" ~ weighted ~ ("," ~ weighted)+ ~ ")" }
//! weighted      = { ident ~ ":" ~ expr }
//! keep_running  = { "keep_running" }
//! ```

use pest::iterators::{Pair, Pairs};

use super::builder::Builder;
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn dispatch(&self, children: Pairs<Rule>) -> ItemKind {
        ItemKind::Dispatch { serves: children.map(|s| self.serve(s)).collect() }
    }

    fn serve(&self, pair: Pair<Rule>) -> Serve {
        let span = self.span(&pair);
        let mut children: Vec<Pair<Rule>> = pair.into_inner().collect();
        let when = match children.last() {
            Some(w) if w.as_rule() == Rule::when => {
                let w = children.pop().expect("when");
                Some(self.expr(w.into_inner().next().expect("when condition")))
            }
            _ => None,
        };
        let mut serve = self.served(children.into_iter(), span);
        serve.when = when;
        serve
    }

    /// The line without its `when`.
    fn served<'i>(&self, mut inner: impl Iterator<Item = Pair<'i, Rule>>, span: Span) -> Serve {
        let first = inner.next().expect("served queue");
        match first.as_rule() {
            Rule::earliest => {
                let queues: Vec<Ident> = first.into_inner().map(|q| self.ident(q)).collect();
                let queue = queues[0].clone();
                Serve { queue, starve_after: None, group: ServeGroup::Earliest(queues), when: None, span }
            }
            Rule::round_robin => {
                let entries: Vec<(Ident, Expr)> = first
                    .into_inner()
                    .map(|w| {
                        let mut parts = w.into_inner();
                        let queue = self.ident(parts.next().expect("weighted queue"));
                        (queue, self.expr(parts.next().expect("queue weight")))
                    })
                    .collect();
                let queue = entries[0].0.clone();
                Serve { queue, starve_after: None, group: ServeGroup::RoundRobin(entries), when: None, span }
            }
            Rule::keep_running => {
                let queue = Ident { name: "keep_running".to_string(), span: self.span(&first) };
                Serve { queue, starve_after: None, group: ServeGroup::KeepRunning, when: None, span }
            }
            _ => {
                let queue = self.ident(first);
                let starve_after = inner.next().map(|s| self.expr(s.into_inner().next().expect("starvation limit")));
                Serve { queue, starve_after, group: ServeGroup::One, when: None, span }
            }
        }
    }
}
