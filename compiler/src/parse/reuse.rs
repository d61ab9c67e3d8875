//! The `const` and `fn` items: a value and a formula written once, used by name.
//!
//! ```text
//! const_decl = { "const" ~ ident ~ "=" ~ expr }
//! fn_decl    = { "fn" ~ ident ~ "(" ~ (fn_param ~ ("," ~ fn_param)*)? ~ ")" ~ "=" ~ expr }
//! fn_param   = { ident ~ ":" ~ type_name }
//! ```

use pest::iterators::Pairs;

use super::builder::{required, Builder};
use super::Rule;
use crate::ast::*;

impl Builder {
    pub(super) fn const_decl(&self, mut children: Pairs<Rule>) -> ItemKind {
        let name = self.ident(required(&mut children));
        ItemKind::Const { name, value: self.expr(required(&mut children)) }
    }

    pub(super) fn fn_decl(&self, mut children: Pairs<Rule>) -> ItemKind {
        let name = self.ident(required(&mut children));
        let mut params = Vec::new();
        let mut body = None;
        for child in children {
            match child.as_rule() {
                Rule::fn_param => {
                    let mut parts = child.into_inner();
                    let arg = self.ident(required(&mut parts));
                    params.push((arg, self.type_name(required(&mut parts))));
                }
                _ => body = Some(self.expr(child)),
            }
        }
        ItemKind::Fn(Box::new(FnDecl { name, params, body: body.expect("a function has a body") }))
    }
}
