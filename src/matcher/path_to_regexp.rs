//! path-to-regexp 6.3.0's `parse` and `tokensToRegexp` with their defaults (`start`, `end`, not
//! `strict`, delimiter `/#?`), as Next.js vendors them: a matcher source becomes the JavaScript
//! regex Next.js writes into its middleware manifest (path-to-regexp@6.3.0 dist/index.js).

/// A source compiled to its JavaScript regex (without the `RegExp.prototype.source` escaping).
pub(super) fn pattern(path: &str) -> Result<String, Error> {
    to_regex(&parse(path)?)
}

/// Why a path does not compile, and at which character of it, when one is to blame.
#[derive(Debug, PartialEq)]
pub(super) struct Error {
    pub(super) message: String,
    pub(super) at: Option<usize>,
}

impl Error {
    fn at(at: usize, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            at: Some(at),
        }
    }
}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Self { message, at: None }
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        message.to_owned().into()
    }
}

#[derive(Debug, PartialEq)]
enum Lexeme {
    Modifier(char),
    Escaped(char),
    Open,
    Close,
    Name(String),
    Pattern(String),
    Char(char),
}

fn lex(input: &str) -> Result<Vec<(usize, Lexeme)>, Error> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' | '+' | '?' => {
                out.push((i, Lexeme::Modifier(c)));
                i += 1;
            }
            '\\' => {
                let escaped = *chars
                    .get(i + 1)
                    .ok_or_else(|| Error::at(i, "trailing `\\`"))?;
                out.push((i, Lexeme::Escaped(escaped)));
                i += 2;
            }
            '{' => {
                out.push((i, Lexeme::Open));
                i += 1;
            }
            '}' => {
                out.push((i, Lexeme::Close));
                i += 1;
            }
            ':' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                if j == i + 1 {
                    return Err(Error::at(i, "missing parameter name"));
                }
                out.push((i, Lexeme::Name(chars[i + 1..j].iter().collect())));
                i = j;
            }
            '(' => {
                let mut depth = 1;
                let mut pattern = String::new();
                let mut j = i + 1;
                if chars.get(j) == Some(&'?') {
                    return Err(Error::at(j, "pattern cannot start with `?`"));
                }
                while j < chars.len() {
                    match chars[j] {
                        '\\' => {
                            pattern.push('\\');
                            if let Some(&next) = chars.get(j + 1) {
                                pattern.push(next);
                            }
                            j += 2;
                            continue;
                        }
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                j += 1;
                                break;
                            }
                        }
                        '(' => {
                            depth += 1;
                            if chars.get(j + 1) != Some(&'?') {
                                return Err(Error::at(j, "capturing groups are not allowed"));
                            }
                        }
                        _ => {}
                    }
                    pattern.push(chars[j]);
                    j += 1;
                }
                if depth != 0 {
                    return Err(Error::at(i, "unbalanced pattern"));
                }
                if pattern.is_empty() {
                    return Err(Error::at(i, "missing pattern"));
                }
                out.push((i, Lexeme::Pattern(pattern)));
                i = j;
            }
            _ => {
                out.push((i, Lexeme::Char(c)));
                i += 1;
            }
        }
    }
    Ok(out)
}

#[derive(Debug)]
enum Part {
    Text(String),
    Param {
        /// Named or unnamed; only whether it has a pattern matters for the regex.
        prefix: String,
        suffix: String,
        pattern: String,
        modifier: Option<char>,
    },
}

const DELIMITER: &str = "/#?";

fn parse(input: &str) -> Result<Vec<Part>, Error> {
    let lexemes = lex(input)?;
    let mut out: Vec<Part> = Vec::new();
    let mut path = String::new();
    let mut i = 0;
    let peek = |i: usize| lexemes.get(i).map(|(_, l)| l);
    while i < lexemes.len() {
        let char_ = match peek(i) {
            Some(Lexeme::Char(c)) => {
                i += 1;
                Some(*c)
            }
            _ => None,
        };
        let name = take_name(&lexemes, &mut i);
        let pattern = take_pattern(&lexemes, &mut i);
        if name.is_some() || pattern.is_some() {
            let mut prefix = char_.map(String::from).unwrap_or_default();
            // Only `.` and `/` are prefixes (path-to-regexp's default `prefixes`).
            if !prefix.is_empty() && prefix != "." && prefix != "/" {
                path.push_str(&prefix);
                prefix.clear();
            }
            if !path.is_empty() {
                out.push(Part::Text(std::mem::take(&mut path)));
            }
            let pattern = match pattern {
                Some(p) => p,
                None => safe_pattern(&out, &prefix, name.as_deref())?,
            };
            let modifier = take_modifier(&lexemes, &mut i);
            out.push(Part::Param {
                prefix,
                suffix: String::new(),
                pattern,
                modifier,
            });
            continue;
        }
        if let Some(c) = char_ {
            path.push(c);
            continue;
        }
        if let Some(Lexeme::Escaped(c)) = peek(i) {
            path.push(*c);
            i += 1;
            continue;
        }
        if !path.is_empty() {
            out.push(Part::Text(std::mem::take(&mut path)));
        }
        if let Some(Lexeme::Open) = peek(i) {
            i += 1;
            let prefix = consume_text(&lexemes, &mut i);
            let name = take_name(&lexemes, &mut i);
            let pattern = take_pattern(&lexemes, &mut i);
            let suffix = consume_text(&lexemes, &mut i);
            match lexemes.get(i) {
                Some((_, Lexeme::Close)) => i += 1,
                Some((at, other)) => {
                    return Err(Error::at(
                        *at,
                        format!("unexpected {other:?}, expected `}}`"),
                    ))
                }
                None => return Err("unexpected end, expected `}`".into()),
            }
            let pattern = match (&name, pattern) {
                (Some(_), None) => safe_pattern(&out, &prefix, name.as_deref())?,
                (_, Some(p)) => p,
                (None, None) => String::new(),
            };
            let modifier = take_modifier(&lexemes, &mut i);
            out.push(Part::Param {
                prefix,
                suffix,
                pattern,
                modifier,
            });
            continue;
        }
        let (at, other) = &lexemes[i];
        return Err(Error::at(*at, format!("unexpected {other:?}")));
    }
    if !path.is_empty() {
        out.push(Part::Text(path));
    }
    Ok(out)
}

fn take_name(lexemes: &[(usize, Lexeme)], i: &mut usize) -> Option<String> {
    match lexemes.get(*i) {
        Some((_, Lexeme::Name(name))) => {
            *i += 1;
            Some(name.clone())
        }
        _ => None,
    }
}

fn take_pattern(lexemes: &[(usize, Lexeme)], i: &mut usize) -> Option<String> {
    match lexemes.get(*i) {
        Some((_, Lexeme::Pattern(pattern))) => {
            *i += 1;
            Some(pattern.clone())
        }
        _ => None,
    }
}

fn take_modifier(lexemes: &[(usize, Lexeme)], i: &mut usize) -> Option<char> {
    match lexemes.get(*i) {
        Some((_, Lexeme::Modifier(m))) => {
            *i += 1;
            Some(*m)
        }
        _ => None,
    }
}

fn consume_text(lexemes: &[(usize, Lexeme)], i: &mut usize) -> String {
    let mut text = String::new();
    while let Some((_, Lexeme::Char(c) | Lexeme::Escaped(c))) = lexemes.get(*i) {
        text.push(*c);
        *i += 1;
    }
    text
}

/// path-to-regexp 6.3's default pattern, which refuses to run into the text before it (its fix
/// for catastrophic backtracking, CVE-2024-45296).
fn safe_pattern(out: &[Part], prefix: &str, name: Option<&str>) -> Result<String, Error> {
    let prev = out.last();
    let prev_text = if !prefix.is_empty() {
        prefix
    } else {
        match prev {
            Some(Part::Text(t)) => t.as_str(),
            _ => "",
        }
    };
    if prev.is_some() && prev_text.is_empty() {
        return Err(format!(
            "must have text between two parameters, before {:?}",
            name.unwrap_or("(pattern)")
        )
        .into());
    }
    let class = format!("[^{}]", escape(DELIMITER));
    if prev_text.is_empty() || prev_text.chars().any(|c| DELIMITER.contains(c)) {
        Ok(format!("{class}+?"))
    } else {
        Ok(format!("(?:(?!{}){class})+?", escape(prev_text)))
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if ".+*?=^!:${}()[]|/\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `tokensToRegexp` with path-to-regexp's defaults: `start`, `end`, not `strict`.
fn to_regex(tokens: &[Part]) -> Result<String, Error> {
    let mut route = String::from("^");
    for token in tokens {
        match token {
            Part::Text(text) => route.push_str(&escape(text)),
            Part::Param {
                prefix,
                suffix,
                pattern,
                modifier,
            } => {
                let prefix = escape(prefix);
                let suffix = escape(suffix);
                let modifier = modifier.map(String::from).unwrap_or_default();
                if pattern.is_empty() {
                    route.push_str(&format!("(?:{prefix}{suffix}){modifier}"));
                } else if !prefix.is_empty() || !suffix.is_empty() {
                    if modifier == "+" || modifier == "*" {
                        let optional = if modifier == "*" { "?" } else { "" };
                        route.push_str(&format!(
                            "(?:{prefix}((?:{pattern})(?:{suffix}{prefix}(?:{pattern}))*){suffix}){optional}"
                        ));
                    } else {
                        route.push_str(&format!("(?:{prefix}({pattern}){suffix}){modifier}"));
                    }
                } else if modifier == "+" || modifier == "*" {
                    return Err("a repeated parameter needs a prefix or suffix".into());
                } else {
                    route.push_str(&format!("({pattern}){modifier}"));
                }
            }
        }
    }
    route.push_str(&format!("[{}]?$", escape(DELIMITER)));
    Ok(route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_like_path_to_regexp() {
        // Checked against path-to-regexp 6.3.0 with Next's wrapping (interop/matcher-table.mjs).
        let tokens = parse(r"/dashboard/:path*").unwrap();
        assert_eq!(
            to_regex(&tokens).unwrap(),
            r"^\/dashboard(?:\/((?:[^\/#\?]+?)(?:\/(?:[^\/#\?]+?))*))?[\/#\?]?$"
        );
    }

    #[test]
    fn optional_and_custom_parameters_compile_like_path_to_regexp() {
        assert_eq!(
            pattern(r"/files/:id(\d+)").unwrap(),
            r"^\/files(?:\/(\d+))[\/#\?]?$"
        );
        assert_eq!(
            pattern("/blog/:slug?").unwrap(),
            r"^\/blog(?:\/([^\/#\?]+?))?[\/#\?]?$"
        );
        assert!(
            pattern("/user-:id*").is_err(),
            "a repeated parameter needs a prefix"
        );
        assert!(pattern("/(unbalanced").is_err());
    }
}
