//! The `dispatch` item: the queues a CPU serves, in order, with starvation limits.
//!
//! ```text
//! dispatch_decl = { "dispatch" ~ "{" ~ serve+ ~ "}" }
//! serve         = { ident ~ starve? }
//! starve        = { "starve" ~ "after" ~ expr }
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
        let mut inner = pair.into_inner();
        let queue = self.ident(inner.next().expect("served queue"));
        let starve_after = inner.next().map(|s| self.expr(s.into_inner().next().expect("starvation limit")));
        Serve { queue, starve_after, span }
    }
}
