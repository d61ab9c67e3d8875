//! The manifest: what the runtime needs to know about a scheduler, embedded
//! in its object so `schedc run obj.bpf.o` works without the policy.

use serde_json::{json, Value};

use crate::model::*;

use super::expr::c_string;
use super::Lowering;

/// JSON for a parameter value: booleans as booleans, everything else as a
/// number of the parameter's unit (nanoseconds for durations).
fn value(v: i128, ty: ValueType) -> Value {
    match ty {
        ValueType::Bool => json!(v != 0),
        ValueType::Uint | ValueType::Time => json!(v as u64),
        _ => json!(v as i64),
    }
}

impl Lowering<'_> {
    pub(super) fn manifest_json(&self) -> Value {
        let m = self.model;
        let params: Vec<Value> = m
            .params
            .iter()
            .map(|p| {
                json!({
                    "name": p.name, "symbol": p.name, "type": p.ty.keyword(),
                    "default": value(p.default, p.ty),
                    "min": p.min.map(|v| value(v, p.ty)), "max": p.max.map(|v| value(v, p.ty)),
                    "doc": p.doc,
                })
            })
            .collect();
        let stats: Vec<Value> = m
            .stats
            .iter()
            .map(|s| {
                let kind = match s.kind {
                    StatKind::Counter => "counter",
                    StatKind::Gauge => "gauge",
                };
                json!({ "name": s.name, "symbol": s.name, "kind": kind, "type": s.ty.keyword(), "doc": s.doc })
            })
            .collect();
        let inputs: Vec<Value> = self
            .inputs()
            .iter()
            .map(|g| json!({ "symbol": g.name, "fact": g.name.trim_start_matches("schedc_") }))
            .collect();
        let mut manifest = json!({
            "schedc": 1, "scheduler": m.name, "description": m.description, "timeout_ms": m.timeout_ms,
            "params": params, "stats": stats, "inputs": inputs,
        });
        // Class values as in `enum schedc_class`, for the latency probe's
        // per-class histograms; only policies with classes have the key.
        if !m.classes.is_empty() {
            let classes: Vec<Value> =
                m.classes.iter().enumerate().map(|(i, c)| json!({ "name": c.name, "value": i + 1 })).collect();
            manifest["classes"] = json!(classes);
        }
        manifest
    }

    /// The manifest as C string literal lines: one line for the scheduler,
    /// then one per parameter, statistic, input and class.
    pub(super) fn manifest(&self) -> Vec<String> {
        let json = self.manifest_json();
        let compact = |v: &Value| serde_json::to_string(v).expect("JSON values always serialise");
        let mut lines = Vec::new();
        let head: Vec<String> = ["schedc", "scheduler", "description", "timeout_ms"]
            .iter()
            .map(|k| format!("{}:{}", compact(&json!(k)), compact(&json[k])))
            .collect();
        lines.push(format!("{{{},", head.join(",")));
        let keys: Vec<&str> =
            ["params", "stats", "inputs", "classes"].into_iter().filter(|k| json.get(k).is_some()).collect();
        for (i, key) in keys.iter().enumerate() {
            let entries = json[key].as_array().expect("built as an array");
            lines.push(format!("{}:[", compact(&json!(key))));
            for (j, entry) in entries.iter().enumerate() {
                lines.push(format!("{}{}", compact(entry), if j + 1 < entries.len() { "," } else { "" }));
            }
            lines.push(if i + 1 < keys.len() { "]," } else { "]}" }.to_string());
        }
        lines.iter().map(|l| format!("\"{}\"", c_string(l))).collect()
    }
}
