//! The manifest: what the runtime needs to know about a scheduler, embedded
//! in its object so `schedc run obj.bpf.o` works without the policy. Its
//! types and its C text belong to schedc-abi; this fills it in.

use schedc_abi::manifest::{Class, CpuSetParam, Input, MachineFact, Manifest, Param, Stat, VERSION};
use schedc_abi::Value;

use crate::model::ValueType;

use super::Lowering;

/// A checked constant as a manifest value of type `ty`. The checker has
/// made sure it fits, so the conversions cannot lose anything.
fn value(v: i128, ty: ValueType) -> Value {
    match ty {
        ValueType::Bool => Value::Bool(v != 0),
        ValueType::Uint => Value::Uint(v as u64),
        ValueType::Time => Value::Time(v as u64),
        ValueType::Int => Value::Int(v as i64),
        ValueType::Duration => Value::Duration(v as i64),
    }
}

/// The machine fact an input global of lowering receives.
fn fact(symbol: &str) -> MachineFact {
    MachineFact::ALL
        .into_iter()
        .find(|f| f.symbol() == symbol)
        .unwrap_or_else(|| unreachable!("lowering declares inputs only for machine facts, not {symbol}"))
}

impl Lowering<'_> {
    /// The manifest as C string literal lines: one line for the scheduler,
    /// then one per parameter, statistic, input and class.
    pub(super) fn manifest(&self) -> Vec<String> {
        schedc_abi::c::manifest_literals(&self.typed_manifest())
    }

    fn typed_manifest(&self) -> Manifest {
        let m = self.model;
        Manifest {
            version: VERSION,
            scheduler: m.name.clone(),
            description: m.description.clone(),
            timeout_ms: m.timeout_ms,
            params: m
                .params
                .iter()
                .map(|p| Param {
                    name: p.name.clone(),
                    symbol: p.name.clone(),
                    ty: p.ty,
                    default: value(p.default, p.ty),
                    min: p.min.map(|v| value(v, p.ty)),
                    max: p.max.map(|v| value(v, p.ty)),
                    doc: p.doc.clone(),
                })
                .collect(),
            stats: m
                .stats
                .iter()
                .map(|s| Stat {
                    name: s.name.clone(),
                    symbol: s.name.clone(),
                    kind: s.kind,
                    ty: s.ty,
                    doc: s.doc.clone(),
                })
                .collect(),
            inputs: self.inputs().into_iter().map(|g| Input { fact: fact(&g.name), symbol: g.name }).collect(),
            // Class values as in `enum schedc_class`, for the latency
            // probe's per-class histograms.
            classes: m.classes.iter().zip(1..).map(|(c, value)| Class { name: c.name.clone(), value }).collect(),
            cpusets: m
                .cpusets
                .iter()
                .filter_map(|s| {
                    let doc = s.doc.clone()?;
                    Some(CpuSetParam {
                        name: s.name.clone(),
                        symbol: format!("schedc_cpuset_{}", s.name),
                        default: s.text(),
                        doc,
                    })
                })
                .collect(),
        }
    }
}
