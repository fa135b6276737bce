"""Validate Kubernetes manifests against the API's JSON schemas, offline.

Usage: k8s_schema.py FILE...      (run with the venv that scripts/check-deploy.sh makes)

Every object of every file is checked against the *strict* schemas (unknown fields are
errors, so a misspelt `replicass:` fails) of every Kubernetes version kubernetes-validate
bundles. Stricter than `kubernetes-validate` itself in two ways: a kind or apiVersion with no
schema is an error (the tool only warns), and so is a key given twice in one mapping (PyYAML
keeps the last one silently; the API server's decoder refuses it).

Prints one summary line on success, every error on failure; exit status 1 on any error.
"""

import sys

import yaml
from kubernetes_validate import utils as kv
from kubernetes_validate.version import __version__ as kv_version


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated within one mapping."""


def _mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"found duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def name_of(obj):
    meta = obj.get("metadata") or {}
    return f"{str(obj.get('kind', '?')).lower()}/{meta.get('name', '?')}"


def main(paths):
    versions = kv.all_versions()
    errors = []
    objects = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                documents = [doc for doc in yaml.load_all(handle, Loader=StrictLoader) if doc is not None]
        except (OSError, yaml.YAMLError) as error:
            errors.append(f"{path}: cannot read it as YAML: {error}")
            continue
        if not documents:
            errors.append(f"{path}: no Kubernetes objects in it")
        for obj in documents:
            if not isinstance(obj, dict) or "apiVersion" not in obj or "kind" not in obj:
                errors.append(f"{path}: a document that is not a Kubernetes object (no apiVersion/kind)")
                continue
            objects += 1
            for version in versions:
                try:
                    kv.validate(obj, version, strict=True)
                except kv.ValidationError as error:
                    where = ".".join(str(part) for part in error.path) or "(top level)"
                    errors.append(f"{path}: {name_of(obj)} against Kubernetes {error.version}: {where}: {error.message}")
                    break   # the same mistake would repeat for every version
                except kv.SchemaNotFoundError as error:
                    errors.append(f"{path}: {name_of(obj)}: {error.message}")
                    break
    if errors:
        for line in errors:
            print(line)
        return 1
    print(f"{objects} objects in {len(paths)} files valid against the strict schemas of Kubernetes "
          f"{kv.major_minor(versions[0])} to {kv.major_minor(versions[-1])} (kubernetes-validate {kv_version})")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
