//! The C side of the contract, rendered into `schedc.bpf.h`.
//!
//! The header template marks where generated blocks go with a line
//! `/* @abi NAME */`; [`fill_header`] replaces each with the block NAME.

use crate::{exit, section};

/// The template with every `/* @abi NAME */` line replaced by its block.
/// Fails on a marker naming no block, so a typo cannot drop a definition.
pub fn fill_header(template: &str) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 1024);
    for line in template.lines() {
        match line.trim().strip_prefix("/* @abi ").and_then(|rest| rest.strip_suffix(" */")) {
            Some("exit_record") => out.push_str(&exit_record()),
            Some("manifest_macro") => out.push_str(&manifest_macro()),
            Some("ops_flags") => out.push_str(&ops_flags()),
            Some(other) => return Err(format!("the header template asks for an unknown block `{other}`")),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// The exit record's struct, checks that C lays it out as [`exit::FIELDS`]
/// says, and the global itself.
pub fn exit_record() -> String {
    let mut c = format!("struct {} {{\n", exit::STRUCT);
    for f in exit::FIELDS {
        let len = f.array_len.map(|n| format!("[{n}]")).unwrap_or_default();
        c.push_str(&format!("\t{} {}{len};\n", f.c_type, f.name));
    }
    c.push_str("};\n");
    let check =
        |what: String, value: usize| format!("_Static_assert({what} == {value}, \"schedc-abi exit record layout\");\n");
    c.push_str(&check(format!("sizeof(struct {})", exit::STRUCT), exit::SIZE));
    for f in exit::FIELDS {
        c.push_str(&check(format!("__builtin_offsetof(struct {}, {})", exit::STRUCT, f.name), f.offset));
    }
    c.push_str(&format!("\nstruct {} {};\n", exit::STRUCT, exit::SYMBOL));
    c
}

/// `enum scx_ops_flags` with the flags a policy may ask for, by their
/// kernel names and bits ([`crate::ops::OpsFlag`]).
pub fn ops_flags() -> String {
    let mut c = String::from("enum scx_ops_flags {\n");
    for f in crate::ops::OpsFlag::ALL {
        c.push_str(&format!("\t{} = {},\n", f.c_name(), f.bit()));
    }
    c.push_str("};\n");
    c
}

/// `SCHEDC_MANIFEST(json)`, which defines the manifest string in its section.
pub fn manifest_macro() -> String {
    format!(
        "#define SCHEDC_MANIFEST(json) \\\n\tconst char {}[] = json; \\\n\tconst char schedc_manifest[] SEC(\"{}\") = json\n",
        crate::manifest::RODATA_COPY,
        section::MANIFEST
    )
}

/// Escapes text for the inside of a C string literal. Anything but
/// printable ASCII becomes `\x` escapes, each closed by `""` so that a
/// following hex digit is not read as part of it.
pub fn string_body(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_ascii_graphic() || c == ' ' => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}\"\""));
                }
            }
        }
    }
    out
}

/// The manifest as C string literals, one per line of
/// [`crate::Manifest::json_lines`], for `SCHEDC_MANIFEST(...)`.
pub fn manifest_literals(manifest: &crate::Manifest) -> Vec<String> {
    manifest.json_lines().iter().map(|line| format!("\"{}\"", string_body(line))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_replaced_and_unknown_ones_refused() {
        let header = fill_header("a\n  /* @abi exit_record */\nb\n").unwrap();
        assert!(header.starts_with("a\nstruct schedc_exit_info {\n\ts32 kind;\n\ts64 exit_code;\n\tchar reason[128];"));
        assert!(header.contains("_Static_assert(__builtin_offsetof(struct schedc_exit_info, msg) == 144,"));
        assert!(header.ends_with("\nstruct schedc_exit_info schedc_exit;\nb\n"));
        let err = fill_header("/* @abi exit_recrod */\n").unwrap_err();
        assert!(err.contains("`exit_recrod`"), "{err}");
    }

    #[test]
    fn manifest_macro_names_the_section_and_the_rodata_copy() {
        assert!(manifest_macro().contains("SEC(\".schedc.manifest\")"));
        assert!(manifest_macro().contains("const char schedc_manifest_copy[] = json; \\\n"));
    }

    #[test]
    fn strings_escape_quotes_and_non_ascii() {
        assert_eq!(string_body(r#"a "b" \ c"#), r#"a \"b\" \\ c"#);
        assert_eq!(string_body("µ1"), "\\xc2\"\"\\xb5\"\"1");
        assert_eq!(string_body("x\ny"), "x\\ny");
    }
}
