"""Request bodies that refuse unknown fields say so in the OpenAPI document (``additionalProperties: false``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import OpenAPIType, Reference, Schema
from litestar.plugins import OpenAPISchemaPlugin

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition


# Every endpoint refuses a NUL character in any text (linzhang.api.request_guard).
NO_NUL = "^[^\\u0000]*$"


def _without_nul(schema: Schema | Reference) -> None:
    """Text with no pattern of its own says it holds no NUL (also inside nullable and list fields)."""
    if not isinstance(schema, Schema):
        return
    if schema.type == OpenAPIType.STRING and schema.pattern is None and schema.format is None and not schema.enum:
        schema.pattern = NO_NUL
    for inner in [*(schema.one_of or []), *(schema.any_of or [])]:
        _without_nul(inner)
    if schema.items is not None:
        _without_nul(schema.items)


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """The framework's schema of a msgspec struct, closed when the struct forbids unknown fields.

    Request bodies (the structs that forbid unknown fields) also say that their text holds no NUL.
    """

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if isinstance(info, msgspec.inspect.StructType) and info.forbid_unknown_fields and isinstance(schema, Schema):
            schema.additional_properties = False
            for value in (schema.properties or {}).values():
                _without_nul(value)
        return schema


class TextWithoutNulSchemaPlugin(OpenAPISchemaPlugin):
    """Every text of the API (parameters, bodies, answers) holds no NUL; the schema says so.

    Text with a pattern of its own keeps it (the pattern excludes NUL where it matters).
    """

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        kwarg = field_definition.kwarg_definition
        return field_definition.annotation is str and not (kwarg is not None and getattr(kwarg, "pattern", None))

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        return Schema(type=OpenAPIType.STRING, pattern=NO_NUL)
