//! HTML forms: reading a submitted `application/x-www-form-urlencoded` body (with repeated
//! keys, which checkbox lists need) and drawing labelled fields with the refusal shown at
//! the field it names.

use maud::{html, Markup};

use super::auth::Ctx;
use super::layout::banner;
use super::node::Failure;

/// A submitted form or a query string: its pairs in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    /// Parses a form body or query string.
    pub(crate) fn parse(bytes: &[u8]) -> Form {
        Form(form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The first value of `key`, trimmed; "" when absent.
    pub(crate) fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.trim())
    }

    /// Every non-empty value of `key`, trimmed.
    pub(crate) fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The non-empty lines of `key`'s value, trimmed: the form's lists are one per line.
    pub(crate) fn lines(&self, key: &str) -> Vec<String> {
        self.get(key)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Sets `key` to `value`, replacing earlier values, so a form can be drawn again.
    pub(crate) fn set(&mut self, key: &str, value: String) {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_string(), value));
    }

    /// Adds one more value of `key`.
    pub(crate) fn push(&mut self, key: &str, value: String) {
        self.0.push((key.to_string(), value));
    }
}

/// The refusals of one submission: each shown at its field, or above the form when it
/// names no field the form has.
#[derive(Debug, Clone, Default)]
pub(crate) struct Errors {
    /// The failures, in the order found.
    pub(crate) failures: Vec<Failure>,
    /// The form's field names.
    pub(crate) fields: &'static [&'static str],
}

impl Errors {
    /// An empty set for a form with `fields`.
    pub(crate) fn new(fields: &'static [&'static str]) -> Errors {
        Errors {
            failures: Vec::new(),
            fields,
        }
    }

    /// Whether nothing was refused.
    pub(crate) fn is_empty(&self) -> bool {
        self.failures.is_empty()
    }

    /// The messages shown at `field`.
    fn at(&self, field: &str) -> Vec<&str> {
        self.failures
            .iter()
            .filter(|f| f.field.as_deref() == Some(field))
            .map(|f| f.message.as_str())
            .collect()
    }

    /// The banners for refusals that name no field of the form.
    pub(crate) fn banners(&self, ctx: &Ctx) -> Markup {
        html! {
            @for failure in &self.failures {
                @if !failure.field.as_deref().is_some_and(|f| self.fields.contains(&f)) {
                    (banner(ctx, failure))
                }
            }
        }
    }
}

/// A labelled field: `control` with its refusal, if any, right below it. The wrapper is
/// `#field-NAME` and the message `#error-NAME`.
pub(crate) fn field(
    errors: &Errors,
    name: &str,
    label: &str,
    hint: &str,
    control: Markup,
) -> Markup {
    let messages = errors.at(name);
    html! {
        div.field.invalid[!messages.is_empty()] id={ "field-" (name) } {
            label for=(name) { (label) @if !hint.is_empty() { " " small { "(" (hint) ")" } } }
            (control)
            @if !messages.is_empty() {
                p.error id={ "error-" (name) } role="alert" {
                    @for m in &messages { (m) br; }
                }
            }
        }
    }
}

/// A one-line text input holding the form's value.
pub(crate) fn text_input(form: &Form, name: &str) -> Markup {
    html! { input type="text" id=(name) name=(name) value=(form.get(name)); }
}

/// A text area holding the form's value (lists, one entry per line).
pub(crate) fn text_area(form: &Form, name: &str) -> Markup {
    html! { textarea id=(name) name=(name) rows="3" { (form.get(name)) } }
}

/// A drop-down of `options` (value, label), with an empty first choice labelled `empty`.
pub(crate) fn select(form: &Form, name: &str, empty: &str, options: &[(&str, &str)]) -> Markup {
    let chosen = form.get(name);
    html! {
        select id=(name) name=(name) {
            option value="" selected[chosen.is_empty()] { (empty) }
            @for (value, label) in options {
                option value=(value) selected[chosen == *value] { (label) }
            }
        }
    }
}

/// Checkboxes of `options` (value, label), ticked where the form has the value.
pub(crate) fn checkboxes(form: &Form, name: &str, options: &[(&str, &str)]) -> Markup {
    let ticked = form.all(name);
    html! {
        span.checks id=(name) {
            @for (value, label) in options {
                label.check {
                    input type="checkbox" name=(name) value=(value) checked[ticked.contains(value)];
                    " " (label)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_and_lines_are_read() {
        let form = Form::parse(b"warnings=armed&warnings=violent&phones=%2B91+98765+43210%0D%0A%0D%0A98765&name=+Raju+");
        assert_eq!(form.all("warnings"), vec!["armed", "violent"]);
        assert_eq!(form.lines("phones"), vec!["+91 98765 43210", "98765"]);
        assert_eq!(form.get("name"), "Raju");
        assert_eq!(form.get("missing"), "");
    }
}
