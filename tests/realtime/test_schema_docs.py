from django.core.management import call_command

from helpdesk.realtime import schema_docs


def test_protocol_doc_frame_tables_match_the_schemas():
    """docs/protocol.md describes exactly the frames the schemas accept: after changing a
    schema, run `manage.py protocol_docs`."""
    assert schema_docs.current(schema_docs.DOC.read_text()) == schema_docs.render()


def test_every_frame_type_and_field_is_in_the_tables():
    rendered = schema_docs.render()
    for frame_type in (*schema_docs.schemas.CUSTOMER_FRAMES, *schema_docs.schemas.AGENT_FRAMES):
        assert f"| `{frame_type}` |" in rendered
    assert "| `conversation.transfer` | `data.to` | integer | yes |" in rendered


def test_the_command_checks_without_writing(capsys):
    call_command("protocol_docs", "--check")
    assert "current" in capsys.readouterr().out
