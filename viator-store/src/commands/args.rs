//! Argument parsing shared by the families, replying with Redis's errors.

use crate::command::Ctx;
use crate::errors;

impl Ctx<'_> {
    /// Argument `i` as an integer, or `ERR value is not an integer or out of
    /// range` written to the reply.
    pub fn int_arg(&mut self, i: usize) -> Option<i64> {
        let v = viator_types::number::parse_i64(self.arg(i));
        if v.is_none() {
            self.out.error(errors::NOT_INTEGER);
        }
        v
    }

    /// Argument `i` as a float (`strtod` rules, no NaN), or `ERR value is
    /// not a valid float` written to the reply.
    pub fn float_arg(&mut self, i: usize) -> Option<f64> {
        let v = viator_types::number::parse_f64(self.arg(i));
        if v.is_none() {
            self.out.error(errors::NOT_FLOAT);
        }
        v
    }

    /// Whether argument `i` equals `word`, ignoring ASCII case.
    pub fn arg_is(&self, i: usize, word: &str) -> bool {
        self.arg(i).eq_ignore_ascii_case(word.as_bytes())
    }
}
