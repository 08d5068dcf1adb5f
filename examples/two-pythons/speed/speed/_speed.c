/* A compiled extension that says which Python version it was built for. */
#include <Python.h>

static PyObject *built_for(PyObject *self, PyObject *args) {
    return PyUnicode_FromFormat("an extension built for %d.%d", PY_MAJOR_VERSION,
                                PY_MINOR_VERSION);
}

static PyMethodDef methods[] = {
    {"built_for", built_for, METH_NOARGS, "The version this extension was built for."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&module); }
