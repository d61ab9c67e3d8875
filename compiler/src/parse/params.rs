//! The `param` item: a tunable with its type, default, meaning and range.
//!
//! ```text
//! param_decl = { "param" ~ ident ~ ":" ~ type_name ~ "=" ~ expr ~ string ~ bounds? }
//! bounds     = { "in" ~ bound? ~ ".." ~ bound? }
//! bound      = { "-"? ~ literal }
//! ```

use pest::iterators::{Pair, Pairs};

use super::builder::{required, Builder};
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn param(&self, mut children: Pairs<Rule>) -> ItemKind {
        let name = self.ident(required(&mut children));
        let ty = self.type_name(required(&mut children));
        let default = self.expr(required(&mut children));
        let doc = self.string(required(&mut children));
        let (mut min, mut max) = (None, None);
        if let Some(bounds) = children.next() {
            // `in LO..HI`: each side is optional; the ".." is a plain token.
            let dots = self.span(&bounds).start + bounds.as_str().find("..").expect("bounds contain ..");
            for b in bounds.into_inner() {
                let bound = self.bound(b);
                if bound.span.start < dots {
                    min = Some(bound);
                } else {
                    max = Some(bound);
                }
            }
        }
        ItemKind::Param(Box::new(ParamDecl { name, ty, default, doc, min, max }))
    }

    fn bound(&self, pair: Pair<Rule>) -> Bound {
        let span = self.span(&pair);
        let negative = pair.as_str().starts_with('-');
        let value = self.expr(pair.into_inner().next().expect("bound value"));
        Bound { negative, value, span }
    }
}
