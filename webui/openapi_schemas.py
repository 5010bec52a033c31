"""The component schemas of `/api/openapi.json` (`webui.openapi`): the shapes of the JSON
API's answers, written by hand, and `ref` to point at one of them."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


NULLABLE_STR = {"type": ["string", "null"]}
OBJECT = {"type": "object", "additionalProperties": True}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
            }
        },
    },
    "Hit": {
        "type": "object",
        "required": ["id", "subject", "date", "thread_id", "snippet"],
        "properties": {
            "id": {"type": "string", "description": "message key (permalink /messages/{id})"},
            "message_id": {"type": "string"},
            "lists": {"type": "array", "items": {"type": "string"}},
            "subject": {"type": "string"},
            "from_name": {"type": "string"},
            "from_addr": {"type": "string"},
            "date": {**NULLABLE_STR, "format": "date-time"},
            "thread_id": {"type": "string"},
            "snippet": {"type": "string", "description": "text around the matches"},
            "url": {"type": "string"},
            "thread_url": {"type": "string"},
        },
    },
    "Facet": {
        "type": "object",
        "required": ["value", "count"],
        "properties": {
            "value": {
                "type": "string",
                "description": "list name, year, or (sender) the person's display name",
            },
            "key": {
                "type": "string",
                "description": "sender facet only: the person key (the link filters person:KEY)",
            },
            "count": {"type": "integer"},
            "active": {"type": "boolean"},
            "query": {"type": "string", "description": "the query with this filter toggled"},
            "url": {"type": "string"},
        },
    },
    "ApiSearchResult": {
        "type": "object",
        "required": ["total", "hits", "facets", "next_cursor"],
        "properties": {
            "total": {"type": "integer", "description": "true number of matches, never capped"},
            "next_cursor": NULLABLE_STR,
            "facets": {
                "type": "object",
                "description": "list, year and month (YYYY-MM, every month with a match, "
                "oldest first: the date histogram): [value, count]; sender (by person, never "
                "an address): [person key, count, display name]",
                "additionalProperties": {
                    "type": "array",
                    "items": {
                        "type": "array",
                        "prefixItems": [
                            {"type": "string"},
                            {"type": "integer"},
                            {"type": "string"},
                        ],
                        "minItems": 2,
                    },
                },
            },
            "hits": {"type": "array", "items": ref("Hit")},
        },
    },
    "SearchPage": {
        "type": "object",
        "required": ["query", "total", "page", "per_page", "pages", "hits", "facets"],
        "properties": {
            "query": {"type": "string"},
            "lists": {"type": "array", "items": {"type": "string"}},
            "sort": {"type": "string", "enum": ["relevance", "date", "date_asc"]},
            "group": NULLABLE_STR,
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "pages": {"type": "integer"},
            "total": {"type": "integer", "description": "true number of matches, never capped"},
            "hits": {"type": "array", "items": ref("Hit")},
            "facets": {
                "type": "object",
                "description": "list, year, month and sender (person) facets over the match set",
                "additionalProperties": {"type": "array", "items": ref("Facet")},
            },
            "groups": {
                "type": ["array", "null"],
                "description": "with group=thread: the page's hits by thread",
                "items": {
                    "type": "object",
                    "properties": {
                        "thread_id": {"type": "string"},
                        "hits": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "next": NULLABLE_STR,
            "prev": NULLABLE_STR,
            "next_cursor": NULLABLE_STR,
            "exports": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        },
    },
    "SearchHelp": {
        "type": "object",
        "required": ["syntax"],
        "properties": {
            "syntax": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "examples": {"type": "array", "items": {"type": "string"}},
                        "meaning": {"type": "string"},
                    },
                },
            },
            "notes": {"type": "array", "items": {"type": "string"}},
            "parameters": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "messages", "indexed"],
        "properties": {
            "status": {"type": "string"},
            "messages": {"type": "integer"},
            "indexed": {"type": "integer"},
        },
    },
    "Page": {
        **OBJECT,
        "description": "the data the HTML page shows (see docs/webui-contract.md)",
    },
    "Message": {
        **OBJECT,
        "description": "a message as its page and thread pages show it",
        "required": ["key", "parent_key", "body", "body_truncated", "body_length", "source_url"],
        "properties": {
            "key": {"type": "string"},
            "parent_key": {**NULLABLE_STR, "description": "null: a reply to an unknown message"},
            "body": {"type": "string", "description": "at most web.max_body_chars characters"},
            "body_truncated": {"type": "boolean", "description": "the body was cut"},
            "body_length": {"type": "integer", "description": "characters of the whole body"},
            "raw_size": {"type": "integer", "description": "bytes of the original message"},
            "source_url": {"type": "string", "description": "the original bytes, whole"},
        },
    },
    "MessagePage": {**OBJECT, "required": ["message"], "properties": {"message": ref("Message")}},
    "ThreadPage": {
        **OBJECT,
        "required": ["thread", "messages"],
        "properties": {"messages": {"type": "array", "items": ref("Message")}},
    },
}
