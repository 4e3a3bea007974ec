/* What petseg's compiled modules (effects/_fused.c, inference/_matte.c) share: their arrays come
   in through the buffer protocol (no numpy headers), checked with these, and each module says
   which INTERFACE it was built for. */
#ifndef PETSEG_NATIVE_MODULE_H
#define PETSEG_NATIVE_MODULE_H

#include <Python.h>

static int
format_is(const Py_buffer *view, char code)
{
    /* "f" (or "=f", "@f") for float32, "B" for uint8, "H" for uint16: the native forms numpy
       exports. */
    const char *f = view->format ? view->format : "B";
    if (f[0] == '=' || f[0] == '@') {
        f++;
    }
    return f[0] == code && f[1] == '\0';
}

static int
check(int ok, const char *message)
{
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, message);
    }
    return ok;
}

/* Gets the buffers of the ``count`` objects (writable too where bit i of ``writable`` is set)
   and returns how many it holds: ``count``, or fewer with a Python exception set. Release them
   with release() either way. */
static int
acquire_objects(PyObject *const *objects, Py_ssize_t count, int flags, unsigned writable,
                Py_buffer *views)
{
    int held = 0;
    for (; held < count; held++) {
        const int mine = flags | ((writable >> held) & 1u ? PyBUF_WRITABLE : 0);
        if (PyObject_GetBuffer(objects[held], &views[held], mine) < 0) {
            break;
        }
    }
    return held;
}

static void
release(Py_buffer *views, int held)
{
    while (held > 0) {
        PyBuffer_Release(&views[--held]);
    }
}

/* The module of ``definition``, with its INTERFACE constant: the Python side (native.py) uses a
   module only when INTERFACE is the one it was written for, since a module built from an older C
   file (an editable install updated without reinstalling) would take other arguments. Raise it
   with every change of a function's arguments or meaning. */
static PyObject *
module_with_interface(PyModuleDef *definition, long interface)
{
    PyObject *created = PyModule_Create(definition);
    if (created != NULL && PyModule_AddIntConstant(created, "INTERFACE", interface) < 0) {
        Py_DECREF(created);
        return NULL;
    }
    return created;
}

#endif
