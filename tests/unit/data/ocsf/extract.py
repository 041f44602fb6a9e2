#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Extract the OCSF 1.8.0 subset the audit tests check against, from a git checkout of
# ocsf/ocsf-schema: python3 extract.py SCHEMA_GIT_DIR > ocsf-1.8.0-subset.json
# (commit 3dcb905d, "v1.8.0 prep", version.json = 1.8.0). Resolves "extends" chains and
# profile includes; keeps per class the required attributes and enums, per object the
# required attributes, enums and at_least_one constraints, and each attribute's type.
import json, subprocess, sys

GIT, REV = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "3dcb905d"

def load(path):
    out = subprocess.run(["git", "-C", GIT, "show", f"{REV}:{path}"], capture_output=True)
    return json.loads(out.stdout) if out.returncode == 0 else None

dictionary = load("dictionary.json")["attributes"]
categories = load("categories.json")["attributes"]

def merge_attrs(base, child):
    out = {k: dict(v) for k, v in base.items()}
    for k, v in child.items():
        if k == "$include":
            continue
        cur = out.setdefault(k, {})
        for kk, vv in (v or {}).items():
            if kk == "enum" and "enum" in cur:
                cur["enum"] = {**cur["enum"], **vv}
            else:
                cur[kk] = vv
    return out

def with_includes(d):
    attrs = {}
    for inc in d.get("attributes", {}).get("$include", []) or []:
        p = load(inc)
        if p:
            # profile attributes are optional in the class unless the class says otherwise
            attrs = merge_attrs(attrs, {k: {kk: vv for kk, vv in v.items() if kk != "requirement"}
                                        for k, v in p["attributes"].items() if k != "$include"})
    return merge_attrs(attrs, d.get("attributes", {}))

EVENT_FILES = {"base_event": "events/base_event.json", "system": "events/system/system.json",
               "network": "events/network/network.json", "iam": "events/iam/iam.json",
               "finding": "events/findings/finding.json"}
def event(name, path=None):
    d = load(path or EVENT_FILES[name])
    attrs = with_includes(d)
    if d.get("extends"):
        parent = event(d["extends"])
        attrs = merge_attrs(parent["attrs"], attrs)
        return {"d": d, "attrs": attrs}
    return {"d": d, "attrs": attrs}

def resolved_enum(name, a):
    e = dict(dictionary.get(name, {}).get("enum", {}) or {})
    e.update(a.get("enum", {}) or {})
    return sorted(int(k) for k in e) if e else None

classes = {}
for path, cat in [("events/system/process_activity.json", "system"),
                  ("events/system/file_activity.json", "system"),
                  ("events/network/network_activity.json", "network"),
                  ("events/iam/user_access.json", "iam"),
                  ("events/iam/entity_management.json", "iam"),
                  ("events/system/event_log_activity.json", "system"),
                  ("events/findings/detection_finding.json", "findings")]:
    ev = event(None, path)
    d, attrs = ev["d"], ev["attrs"]
    cat_uid = categories[cat]["uid"]
    uid = cat_uid * 1000 + d["uid"]
    enums = {}
    for k, a in attrs.items():
        if k in ("activity_id", "severity_id", "status_id", "action_id", "disposition_id",
                 "log_type_id", "category_uid", "class_uid"):
            e = resolved_enum(k, a)
            if e:
                enums[k] = e
    enums["category_uid"] = [cat_uid]
    enums["class_uid"] = [uid]
    classes[str(uid)] = {
        "name": d["name"], "caption": d["caption"], "category_uid": cat_uid,
        "category_name": categories[cat]["caption"],
        "activities": {k: v["caption"] for k, v in {**(dictionary["activity_id"].get("enum") or {}),
                       **attrs["activity_id"].get("enum", {})}.items()},
        "required": sorted(k for k, a in attrs.items() if a.get("requirement") == "required"),
        "enums": enums,
        "types": {k: dictionary[k]["type"] for k in attrs if k in dictionary},
    }

def obj(name):
    d = load(f"objects/{name}.json")
    if d is None:
        return None
    attrs = with_includes(d)
    cons = d.get("constraints") or {}
    if d.get("extends") and d["extends"] != "object":
        p = obj(d["extends"])
        attrs = merge_attrs(p["attrs"], attrs)
        if not cons:
            cons = p["constraints"]
    return {"attrs": attrs, "constraints": cons}

objects = {}
todo = ["metadata", "product", "actor", "device", "process", "file", "network_endpoint", "user",
        "policy", "managed_entity", "network_connection_info", "resource_details", "group",
        "finding_info", "analytic"]
for name in todo:
    o = obj(name)
    attrs = o["attrs"]
    enums = {}
    for k, a in attrs.items():
        if k.endswith("_id") and dictionary.get(k, {}).get("type") == "integer_t":
            e = resolved_enum(k, a)
            if e:
                enums[k] = e
    objects[name] = {
        "required": sorted(k for k, a in attrs.items() if a.get("requirement") == "required"),
        "at_least_one": o["constraints"].get("at_least_one", []),
        "enums": enums,
        "types": {k: dictionary[k]["type"] for k in attrs if k in dictionary},
        "attributes": sorted(k for k in attrs if k != "$include"),
    }

json.dump({"source": f"ocsf/ocsf-schema@{REV} (version 1.8.0)",
           "version": load("version.json")["version"],
           "classes": classes, "objects": objects}, sys.stdout, indent=1, sort_keys=True)
print()
