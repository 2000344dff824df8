"""sigap.app.ImportingTemplate: an import reuses the imported template's
module unless the importer sees globals the imported template does not
(then, as Jinja does, the module is rendered with them)."""

from jinja2 import DictLoader

from sigap.app import ImportingTemplate, TemplateEnvironment


def _env() -> TemplateEnvironment:
    env = TemplateEnvironment(loader=DictLoader({
        "lib.html": "{% macro hello() %}hello {{ who }}{% endmacro %}",
        "page.html": '{% from "lib.html" import hello %}[{{ hello() }}]',
    }))
    env.globals["who"] = "world"
    return env


def test_an_import_reuses_the_cached_module():
    env = _env()
    assert isinstance(env.get_template("lib.html"), ImportingTemplate)
    assert env.get_template("page.html").render() == "[hello world]"
    module = env.get_template("lib.html")._module
    assert module is not None
    assert env.get_template("page.html").render() == "[hello world]"
    assert env.get_template("lib.html")._module is module


def test_an_importer_with_more_globals_gets_a_module_that_sees_them():
    env = _env()
    env.get_template("lib.html").render()  # cached without the extra global
    page = env.get_template("page.html", globals={"extra": 1})
    assert page.render() == "[hello world]"
    lib = env.get_template("lib.html")
    context = page.new_context()
    assert lib._get_default_module(context) is not lib._module  # Jinja's own path: rendered anew
