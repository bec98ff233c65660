//! `--from-dump FILE`: the output of `kubectl get -A -o json` (a `List` of items, or one
//! object), streamed item by item so a dump of 20,000 objects is never held whole. The file is
//! read twice, workloads on the second pass, so the consumer sees the kinds in the order a
//! live read hands them over and both give the same results.

use std::fmt;
use std::io::BufReader;
use std::path::Path;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{kind_rank, strip_secret_values, Consumer, Error, Selection, KINDS};

/// Lists nested deeper than this (`List` items that are `List`s) are not expanded.
const MAX_LIST_DEPTH: usize = 4;

/// Hands every object of the dump at `path` to `consumer`; returns how many.
pub fn read_dump(
    path: &Path,
    selection: &Selection,
    consumer: &mut dyn Consumer,
) -> Result<usize, Error> {
    let workloads_from = KINDS
        .iter()
        .position(|k| k.kind == "Deployment")
        .unwrap_or(KINDS.len());
    let mut count = 0;
    for second_pass in [false, true] {
        let file = std::fs::File::open(path).map_err(|source| Error::DumpRead {
            path: path.display().to_string(),
            source,
        })?;
        let mut deserializer = serde_json::Deserializer::from_reader(BufReader::new(file));
        let mut hand_over = |mut object: Value| {
            let rank = kind_rank(str_at(&object, "apiVersion"), str_at(&object, "kind"));
            if rank.is_some_and(|r| r >= workloads_from) != second_pass {
                return;
            }
            let meta = object.get("metadata");
            let namespace = meta
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str);
            let name = meta.and_then(|m| m.get("name")).and_then(Value::as_str);
            if !selection.wants(str_at(&object, "kind"), namespace, name.unwrap_or("")) {
                return;
            }
            if str_at(&object, "kind") == "Secret" && !selection.secret_values {
                strip_secret_values(&mut object);
            }
            count += 1;
            consumer.object(object);
        };
        let seed = Document {
            hand_over: &mut hand_over,
            depth: 0,
        };
        seed.deserialize(&mut deserializer)
            .and_then(|()| deserializer.end())
            .map_err(|e| Error::DumpParse {
                path: path.display().to_string(),
                line: e.line(),
                message: e.to_string(),
            })?;
    }
    Ok(count)
}

fn str_at<'a>(object: &'a Value, key: &str) -> &'a str {
    object.get(key).and_then(Value::as_str).unwrap_or("")
}

/// One JSON document: a `List` whose items are handed over as they are read, or one object.
struct Document<'f> {
    hand_over: &'f mut dyn FnMut(Value),
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Document<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Document<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes List (kubectl get -A -o json) or one object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut other = Map::new();
        let mut had_items = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" && self.depth < MAX_LIST_DEPTH {
                had_items = true;
                map.next_value_seed(Items {
                    hand_over: &mut *self.hand_over,
                    depth: self.depth,
                })?;
            } else if key == "items" {
                // kubectl never nests Lists this deep; skipping them would drop objects
                // unseen.
                return Err(serde::de::Error::custom(format!(
                    "Lists nested more than {MAX_LIST_DEPTH} deep; flatten the dump (kubectl get -A -o json)"
                )));
            } else {
                other.insert(key, map.next_value()?);
            }
        }
        let is_list = other
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.ends_with("List"));
        if !had_items && !is_list {
            (self.hand_over)(Value::Object(other));
        }
        Ok(())
    }
}

/// The `items` of a `List`: each one handed over, then dropped.
struct Items<'f> {
    hand_over: &'f mut dyn FnMut(Value),
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of Kubernetes objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Value>()? {
            let nested_list = item
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List"))
                && item.get("items").is_some();
            if nested_list {
                // Rare (`kubectl get` of several lists saved as one); the inner list is small.
                let inner = Document {
                    hand_over: &mut *self.hand_over,
                    depth: self.depth + 1,
                };
                inner.deserialize(item).map_err(serde::de::Error::custom)?;
            } else {
                (self.hand_over)(item);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Names(Vec<String>);

    impl Consumer for Names {
        fn object(&mut self, object: Value) {
            self.0.push(str_at(&object, "kind").to_string());
        }
        fn warning(&mut self, _: String) {}
    }

    fn nested(depth: usize) -> Value {
        let mut doc = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "deep"}});
        for _ in 0..depth {
            doc = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [doc]});
        }
        doc
    }

    fn read(doc: &Value) -> Result<Vec<String>, Error> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dump.json");
        std::fs::write(&path, doc.to_string()).unwrap();
        let mut names = Names(Vec::new());
        read_dump(&path, &Selection::default(), &mut names).map(|_| names.0)
    }

    #[test]
    fn lists_nested_within_the_bound_are_read_and_deeper_ones_are_an_error_not_a_silent_skip() {
        assert_eq!(read(&nested(MAX_LIST_DEPTH)).unwrap(), ["Namespace"]);
        let err = read(&nested(MAX_LIST_DEPTH + 2)).unwrap_err().to_string();
        assert!(err.contains("nested more than 4"), "{err}");
    }
}
