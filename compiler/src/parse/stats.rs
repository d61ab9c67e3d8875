//! The `counter` and `gauge` items: statistics the runtime reads.
//!
//! ```text
//! counter_decl = { "counter" ~ ident ~ ("=" ~ path)? ~ string }
//! gauge_decl   = { "gauge" ~ ident ~ ((":" ~ type_name ~ "=" ~ expr) | ("=" ~ path)) ~ string }
//! ```

use pest::iterators::Pairs;

use super::builder::{required, Builder};
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn counter(&self, mut children: Pairs<Rule>) -> ItemKind {
        let name = self.ident(required(&mut children));
        let second = required(&mut children);
        let (bound, doc) = if second.as_rule() == Rule::path {
            (Some(self.path(second)), self.string(required(&mut children)))
        } else {
            (None, self.string(second))
        };
        ItemKind::Counter { name, bound, doc }
    }

    pub(super) fn gauge(&self, mut children: Pairs<Rule>) -> ItemKind {
        let name = self.ident(required(&mut children));
        let second = required(&mut children);
        let source = if second.as_rule() == Rule::path {
            GaugeSource::Bound(self.path(second))
        } else {
            GaugeSource::Variable { ty: self.type_name(second), init: self.expr(required(&mut children)) }
        };
        ItemKind::Gauge { name, source, doc: self.string(required(&mut children)) }
    }
}
