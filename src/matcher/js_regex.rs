//! JavaScript's regex dialect (Annex B, no flags) translated into `fancy-regex`: Next.js runs
//! matcher patterns on JavaScript's engine, and the two dialects read the same text differently.

/// The form `RegExp.prototype.source` gives: `/` escaped outside character classes. The regex is
/// the same; the text then equals what Next.js writes into its middleware manifest.
pub(super) fn js_source(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let (mut escaped, mut class) = (false, false);
    for c in pattern.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' => class = true,
            ']' => class = false,
            '/' if !class => out.push('\\'),
            _ => {}
        }
        out.push(c);
    }
    out
}

/// JavaScript's `\s`: WhiteSpace and LineTerminator, which is not Unicode's `White_Space`.
const JS_SPACE: &str = r"\t\n\x{0B}\x{0C}\r\x{20}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}";
/// JavaScript's `\w` and `\d`: ASCII only, where the `regex` crate's are Unicode.
const JS_WORD: &str = "0-9A-Za-z_";
const JS_DIGIT: &str = "0-9";

/// Rewrites a pattern written for JavaScript's `RegExp` (no flags, so Annex B syntax) into the
/// `fancy-regex` expression that matches the same strings, or says why it can't.
///
/// Next.js runs matcher patterns on JavaScript's engine; the two dialects read the same text
/// differently in places (`\d` is ASCII in JavaScript, `\g2` is a literal there and a subroutine
/// call here, `[[:alpha:]]` is a POSIX class here and a set of brackets there). Every character
/// and class is therefore written out explicitly. Backreferences, octal escapes, characters outside
/// the Basic Multilingual Plane and quantified lookaheads are refused rather than approximated;
/// octal escapes are read as JavaScript reads them inside classes and refused outside them.
pub(super) fn translate(js: &str) -> Result<String, String> {
    let mut names: Vec<String> = Vec::new();
    #[derive(PartialEq)]
    enum Group {
        Plain,
        Assertion,
    }
    let chars: Vec<char> = js.chars().collect();
    if let Some(c) = chars.iter().find(|c| u32::from(**c) > 0xFFFF) {
        return Err(format!(
            "{c:?} is outside the Basic Multilingual Plane; JavaScript sees two code units"
        ));
    }
    let mut out = String::with_capacity(js.len() * 3);
    let mut groups = Vec::new();
    // Whether the previous item can take a quantifier.
    let mut repeatable = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' => {
                let e = *chars.get(i).ok_or("trailing `\\`")?;
                i += 1;
                repeatable = true;
                if let Some(set) = class_escape(e) {
                    out.push_str(&set);
                    continue;
                }
                match e {
                    'b' | 'B' => {
                        // A word character on exactly one side (`\b`), or on neither or both.
                        let w = format!("[{JS_WORD}]");
                        let (after_word, after_other) =
                            if e == 'b' { ('!', '=') } else { ('=', '!') };
                        out.push_str(&format!(
                            "(?:(?<={w})(?{after_word}{w})|(?<!{w})(?{after_other}{w}))"
                        ));
                        repeatable = false;
                    }
                    '1'..='9' => return Err("backreferences are not supported".into()),
                    'k' => return Err("named backreferences (`\\k`) are not supported".into()),
                    _ => match char_escape(e, &chars[i..], false)? {
                        Some((code, used)) => {
                            i += used;
                            push_char(&mut out, code);
                        }
                        // `\c` without a control letter: a backslash, then `c` read again.
                        None => {
                            push_char(&mut out, '\\');
                            i -= 1;
                        }
                    },
                }
            }
            '(' => {
                let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
                let (kind, opener, used) = if !rest.starts_with('?') {
                    (Group::Plain, "(".to_owned(), 0)
                } else if rest.starts_with("?:") {
                    (Group::Plain, "(?:".to_owned(), 2)
                } else if rest.starts_with("?=") || rest.starts_with("?!") {
                    (Group::Assertion, format!("({}", &rest[..2]), 2)
                } else if rest.starts_with("?<=") || rest.starts_with("?<!") {
                    (Group::Assertion, format!("({rest}"), 3)
                } else if rest.starts_with("?<") {
                    let end = chars[i + 2..]
                        .iter()
                        .position(|&c| c == '>')
                        .ok_or("unterminated group name")?;
                    let name: String = chars[i + 2..i + 2 + end].iter().collect();
                    let valid = name
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !valid {
                        return Err(format!("unsupported group name {name:?}"));
                    }
                    if names.contains(&name) {
                        return Err(format!("duplicate group name {name:?}"));
                    }
                    names.push(name.clone());
                    (Group::Plain, format!("(?<{name}>"), end + 3)
                } else {
                    return Err(format!(
                        "unsupported group `({rest}` (not JavaScript syntax)"
                    ));
                };
                i += used;
                out.push_str(&opener);
                groups.push(kind);
                repeatable = false;
            }
            ')' => {
                let kind = groups.pop().ok_or("unmatched `)`")?;
                out.push(')');
                repeatable = kind == Group::Plain;
            }
            '|' | '^' | '$' => {
                out.push(c);
                repeatable = false;
            }
            '.' => {
                out.push_str(r"[^\n\r\x{2028}\x{2029}]");
                repeatable = true;
            }
            '[' => {
                let (class, used) = class(&chars[i..])?;
                i += used;
                out.push_str(&class);
                repeatable = true;
            }
            '*' | '+' | '?' | '{' => {
                let quantifier = if c == '{' {
                    braced_quantifier(&chars[i..])?
                } else {
                    Some((c.to_string(), 0))
                };
                match quantifier {
                    Some((q, used)) => {
                        if !repeatable {
                            return Err(format!("nothing to repeat before `{q}`"));
                        }
                        i += used;
                        out.push_str(&q);
                        if chars.get(i) == Some(&'?') {
                            out.push('?');
                            i += 1;
                        }
                        repeatable = false;
                    }
                    // Annex B: a `{` that starts no quantifier is a literal.
                    None => {
                        push_char(&mut out, '{');
                        repeatable = true;
                    }
                }
            }
            _ => {
                push_char(&mut out, c);
                repeatable = true;
            }
        }
    }
    if !groups.is_empty() {
        return Err("unterminated group".into());
    }
    Ok(out)
}

/// The class a JavaScript class escape (`\d`, `\D`, `\w`, `\W`, `\s`, `\S`) stands for, in
/// or out of a character class.
fn class_escape(e: char) -> Option<String> {
    let (negated, set) = match e {
        'd' => (false, JS_DIGIT),
        'D' => (true, JS_DIGIT),
        'w' => (false, JS_WORD),
        'W' => (true, JS_WORD),
        's' => (false, JS_SPACE),
        'S' => (true, JS_SPACE),
        _ => return None,
    };
    Some(format!("[{}{set}]", if negated { "^" } else { "" }))
}

/// A literal character: alphanumerics as they are, everything else as a `\x{..}` escape, which
/// means the same character wherever it stands.
fn push_char(out: &mut String, c: char) {
    if c.is_alphanumeric() {
        out.push(c);
    } else {
        out.push_str(&format!(r"\x{{{:X}}}", u32::from(c)));
    }
}

/// `{n}`, `{n,}` or `{n,m}` at the start of `rest` (just after the `{`), with the characters it
/// takes; `None` when the brace starts no quantifier.
fn braced_quantifier(rest: &[char]) -> Result<Option<(String, usize)>, String> {
    let Some(end) = rest.iter().position(|&c| c == '}') else {
        return Ok(None);
    };
    let body: String = rest[..end].iter().collect();
    let (min, max) = body.split_once(',').unwrap_or((&body, ""));
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !number(min) || !(max.is_empty() || number(max)) {
        return Ok(None);
    }
    // Compared as numbers of any length: strip leading zeros, then longer is larger.
    fn size(s: &str) -> (usize, &str) {
        let s = s.trim_start_matches('0');
        (s.len(), s)
    }
    if !max.is_empty() && size(max) < size(min) {
        return Err(format!("numbers out of order in `{{{body}}}`"));
    }
    Ok(Some((format!("{{{body}}}"), end + 1)))
}

/// The character a JavaScript escape stands for (`e` is the character after the backslash,
/// `rest` what follows it), and how many characters of `rest` it takes. `None` is a `\c` without a
/// control letter, which Annex B reads as a backslash followed by `c`.
fn char_escape(e: char, rest: &[char], in_class: bool) -> Result<Option<(char, usize)>, String> {
    let hex = |n: usize| -> Option<u32> {
        let digits = rest.get(..n)?;
        digits
            .iter()
            .try_fold(0, |acc, c| Some(acc * 16 + c.to_digit(16)?))
    };
    Ok(Some(match e {
        't' => ('\t', 0),
        'n' => ('\n', 0),
        'r' => ('\r', 0),
        'v' => ('\u{0B}', 0),
        'f' => ('\u{0C}', 0),
        '0' if !rest.first().is_some_and(char::is_ascii_digit) => ('\0', 0),
        // Annex B: in a class, `\1`..`\377` are octal (there are no backreferences there).
        '0'..='7' if in_class => {
            let mut code = e.to_digit(8).unwrap_or(0);
            let mut used = 0;
            while let Some(d) = rest.get(used).and_then(|c| c.to_digit(8)) {
                if used == 2 || code * 8 + d > 0o377 {
                    break;
                }
                code = code * 8 + d;
                used += 1;
            }
            (char::from(code as u8), used)
        }
        '8' | '9' if in_class => (e, 0),
        '0'..='9' => return Err("octal escapes are not supported".into()),
        'c' => match rest.first() {
            Some(&l)
                if l.is_ascii_alphabetic() || (in_class && (l.is_ascii_digit() || l == '_')) =>
            {
                (char::from(l as u8 % 32), 1)
            }
            _ => return Ok(None),
        },
        'x' => match hex(2) {
            Some(code) => (char::from_u32(code).ok_or("bad `\\x` escape")?, 2),
            None => ('x', 0),
        },
        'u' => match hex(4) {
            Some(code) => (
                char::from_u32(code).ok_or("surrogate escapes are not supported")?,
                4,
            ),
            None => ('u', 0),
        },
        // Any other escaped character stands for itself (Annex B identity escapes).
        other => (other, 0),
    }))
}

/// A character class, from just after its `[`: the `fancy-regex` class and the characters taken,
/// including the closing `]`.
fn class(rest: &[char]) -> Result<(String, usize), String> {
    enum Item {
        Char(char),
        Set(String),
    }
    let mut i = 0;
    let negated = rest.first() == Some(&'^');
    if negated {
        i += 1;
    }
    // One class atom at `i`, or `None` at the closing `]`.
    let atom = |i: &mut usize| -> Result<Option<Item>, String> {
        let c = *rest.get(*i).ok_or("unterminated character class")?;
        *i += 1;
        Ok(Some(match c {
            ']' => {
                *i -= 1;
                return Ok(None);
            }
            '\\' => {
                let e = *rest.get(*i).ok_or("unterminated character class")?;
                *i += 1;
                if let Some(set) = class_escape(e) {
                    return Ok(Some(Item::Set(set)));
                }
                match e {
                    'b' => Item::Char('\u{08}'),
                    'k' => return Err("`\\k` in a class is not supported".into()),
                    _ => match char_escape(e, &rest[*i..], true)? {
                        Some((code, used)) => {
                            *i += used;
                            Item::Char(code)
                        }
                        None => {
                            *i -= 1;
                            Item::Char('\\')
                        }
                    },
                }
            }
            other => Item::Char(other),
        }))
    };
    let push = |body: &mut String, item: Item| match item {
        Item::Char(c) => push_char(body, c),
        Item::Set(set) => body.push_str(&set),
    };
    let mut body = String::new();
    while let Some(first) = atom(&mut i)? {
        let range = rest.get(i) == Some(&'-') && rest.get(i + 1).is_some_and(|&c| c != ']');
        if !range {
            push(&mut body, first);
            continue;
        }
        i += 1;
        let last = atom(&mut i)?.ok_or("unterminated character class")?;
        match (first, last) {
            (Item::Char(a), Item::Char(b)) if a > b => {
                return Err(format!(
                    "range out of order in character class: {a:?}-{b:?}"
                ))
            }
            (Item::Char(a), Item::Char(b)) => {
                push_char(&mut body, a);
                body.push('-');
                push_char(&mut body, b);
            }
            // Annex B: a range with a class escape on either side is the two and a `-`.
            (first, last) => {
                for item in [first, Item::Char('-'), last] {
                    push(&mut body, item);
                }
            }
        }
    }
    let class = match (body.is_empty(), negated) {
        (true, false) => r"[^\x{0}-\x{10FFFF}]".to_owned(),
        (true, true) => r"[\x{0}-\x{10FFFF}]".to_owned(),
        (false, false) => format!("[{body}]"),
        (false, true) => format!("[^{body}]"),
    };
    Ok((class, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_escapes_slashes_outside_classes_only() {
        assert_eq!(js_source(r"^/a[/]b\/c$"), r"^\/a[/]b\/c$");
    }

    #[test]
    fn javascript_classes_and_escapes_are_spelled_out() {
        let translated = translate(r"\d\w").unwrap();
        assert!(
            !translated.contains(r"\d") && !translated.contains(r"\w"),
            "{translated}"
        );
        let digits = fancy_regex::Regex::new(&format!("^{}$", translate(r"\d+").unwrap())).unwrap();
        assert!(digits.is_match("12").unwrap());
        assert!(
            !digits.is_match("١٢").unwrap(),
            "JavaScript's \\d is ASCII only"
        );
        let literal =
            fancy_regex::Regex::new(&format!("^{}$", translate(r"\g2").unwrap())).unwrap();
        assert!(
            literal.is_match("g2").unwrap(),
            "\\g2 is a literal in JavaScript"
        );
        let dot = fancy_regex::Regex::new(&format!("^{}$", translate("a.b").unwrap())).unwrap();
        assert!(dot.is_match("a\u{85}b").unwrap());
        assert!(!dot.is_match("a\u{2028}b").unwrap());
    }

    #[test]
    fn backreferences_are_refused() {
        assert!(translate(r"(a)\1").is_err());
    }
}
