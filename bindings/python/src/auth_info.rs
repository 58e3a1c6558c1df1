//! Core's `AuthInfo` as the `mcpauth.types.AuthInfo` model users receive.
//!
//! The instance is built the way `AuthInfo.model_construct(**fields)` builds it (its `__dict__`
//! in field order, every field in `model_fields_set`, no extra or private values), but straight
//! from the Rust struct: no `serde_json::Value` in between and no Python-level constructor, which
//! together cost as much as a fifth of an RS256 verification. Should the model ever stop being a
//! plain pydantic model with exactly these fields, `model_construct` itself is called instead.

use mcp_auth_core::{Audience, AuthInfo};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyFrozenSet, PyList, PyString, PyType};
use pyo3::{ffi, intern};

use crate::convert::map_to_py;

/// The model's fields, in the order pydantic keeps them.
const FIELDS: [&str; 8] = [
    "token",
    "issuer",
    "client_id",
    "scopes",
    "subject",
    "audience",
    "claims",
    "expires_at",
];

struct Model {
    class: Py<PyType>,
    /// `object.__new__`, which is what `model_construct` allocates with.
    new: Py<PyAny>,
    /// Copied into each instance's `__pydantic_fields_set__`.
    fields_set: Py<PyFrozenSet>,
    /// The field names, interned, in order.
    names: [Py<PyString>; 8],
    /// False when the model is not the plain shape this module knows (see the module docs).
    direct: bool,
}

static MODEL: PyOnceLock<Model> = PyOnceLock::new();

fn model(py: Python<'_>) -> PyResult<&Model> {
    MODEL.get_or_try_init(py, || {
        let class = py
            .import("mcpauth.types")?
            .getattr("AuthInfo")?
            .cast_into::<PyType>()?;
        let fields: Vec<String> = class
            .getattr("__pydantic_fields__")?
            .call_method0("keys")?
            .try_iter()?
            .map(|k| k.and_then(|k| k.extract::<String>()))
            .collect::<PyResult<_>>()?;
        let config = class.getattr("model_config")?;
        let extra_allowed = config
            .call_method1("get", ("extra",))?
            .eq("allow")
            .unwrap_or(true);
        let direct = fields.iter().map(String::as_str).eq(FIELDS)
            && class.getattr("__pydantic_post_init__")?.is_none()
            && !class.getattr("__pydantic_root_model__")?.is_truthy()?
            && !extra_allowed;
        let names = FIELDS.map(|f| PyString::intern(py, f).unbind());
        Ok(Model {
            new: py
                .import("builtins")?
                .getattr("object")?
                .getattr("__new__")?
                .unbind(),
            fields_set: PyFrozenSet::new(py, names.iter().map(|n| n.bind(py)))?.unbind(),
            class: class.unbind(),
            names,
            direct,
        })
    })
}

fn audience_to_py<'py>(py: Python<'py>, a: &Audience) -> PyResult<Bound<'py, PyAny>> {
    Ok(match a {
        Audience::One(s) => PyString::new(py, s).into_any(),
        Audience::Many(v) => PyList::new(py, v)?.into_any(),
    })
}

/// `object.__setattr__(obj, name, value)`: the slots and `__dict__` of a pydantic model,
/// bypassing its `__setattr__` as `model_construct` does.
fn set_raw(
    obj: &Bound<'_, PyAny>,
    name: &Bound<'_, PyString>,
    value: &Bound<'_, PyAny>,
) -> PyResult<()> {
    // SAFETY: all three pointers are live objects owned by the caller while the GIL is held.
    let r = unsafe { ffi::PyObject_GenericSetAttr(obj.as_ptr(), name.as_ptr(), value.as_ptr()) };
    if r == 0 {
        Ok(())
    } else {
        Err(PyErr::fetch(obj.py()))
    }
}

/// The `AuthInfo` model of a verified token. `token`, when given, is the Python string the
/// token came in as: reused when it is the same text, so the token is not copied again.
pub fn auth_info_to_py(
    py: Python<'_>,
    info: AuthInfo,
    token: Option<&Bound<'_, PyString>>,
) -> PyResult<Py<PyAny>> {
    let m = model(py)?;
    let token = match token {
        Some(t) if t.to_str().is_ok_and(|s| s == info.token) => t.clone(),
        _ => PyString::new(py, &info.token),
    };
    let values: [Bound<'_, PyAny>; 8] = [
        token.into_any(),
        PyString::new(py, &info.issuer).into_any(),
        match &info.client_id {
            Some(c) => PyString::new(py, c).into_any(),
            None => py.None().into_bound(py),
        },
        PyList::new(py, &info.scopes)?.into_any(),
        match &info.subject {
            Some(s) => PyString::new(py, s).into_any(),
            None => py.None().into_bound(py),
        },
        match &info.audience {
            Some(a) => audience_to_py(py, a)?,
            None => py.None().into_bound(py),
        },
        map_to_py(py, &info.claims)?.into_any(),
        match info.expires_at {
            Some(e) => e.into_pyobject(py)?.into_any(),
            None => py.None().into_bound(py),
        },
    ];
    let fields = PyDict::new(py);
    for (name, value) in m.names.iter().zip(values.iter()) {
        fields.set_item(name.bind(py), value)?;
    }
    let class = m.class.bind(py);
    if !m.direct {
        return Ok(class
            .call_method("model_construct", (), Some(&fields))?
            .unbind());
    }
    let obj = m.new.bind(py).call1((class,))?;
    // SAFETY: PySet_New copies the items of a live frozenset into a new set (new reference).
    let fields_set =
        unsafe { Bound::from_owned_ptr_or_err(py, ffi::PySet_New(m.fields_set.as_ptr()))? };
    set_raw(&obj, intern!(py, "__dict__"), &fields)?;
    set_raw(&obj, intern!(py, "__pydantic_fields_set__"), &fields_set)?;
    let none = py.None().into_bound(py);
    set_raw(&obj, intern!(py, "__pydantic_extra__"), &none)?;
    set_raw(&obj, intern!(py, "__pydantic_private__"), &none)?;
    Ok(obj.unbind())
}

/// For `spawn_py`: the model of an AuthInfo produced off the event loop.
pub fn auth_info_to_py_owned(py: Python<'_>, info: AuthInfo) -> PyResult<Py<PyAny>> {
    auth_info_to_py(py, info, None)
}
