"""Attachments in real browsers: a customer sends an image from the widget that the agent sees
as a thumbnail and opens full size; files over the inbox's limits are refused with a sentence
saying why, before the upload (the widget's own checks) and after it (the server's); an
uploaded HTML file is a download, never a page of ours; the agent sends a PDF that the
customer downloads. Screenshots of each state go to var/screenshots/attachments-*.png."""

import io
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.browser.pages import (
    SEQ,
    console_login,
    customer_send,
    open_widget,
    screenshot,
    transcript,
    widget_messages,
)
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
UPLOADS = re.compile(r"/widget/api/attachments$")
PHONE = (390, 844)


def png_bytes(width: int = 640, height: int = 400) -> bytes:
    """A real PNG with something to see in it (the server decodes images)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (238, 242, 255))
    draw = ImageDraw.Draw(image)
    w, h = width / 640, height / 400
    draw.rectangle((40 * w, 40 * h, width - 40 * w, 120 * h), fill=(79, 70, 229))
    draw.rectangle((40 * w, 150 * h, width // 2, height - 40 * h), fill=(16, 185, 129))
    draw.ellipse(
        (width // 2 + 30 * w, 160 * h, width - 60 * w, height - 50 * h), fill=(245, 158, 11)
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screenshot(page, SCREENSHOTS / f"attachments-{name}.png")


def attach_in_widget(page: Page, name: str, mime: str, data: bytes) -> None:
    page.get_by_test_id("attach-input").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )


def agent_online(pages, site) -> Page:
    """Alice, online with the console open: the widget then offers the chat, not the offline
    form (helpdesk/widget/availability.py), and her console shows the conversations live."""
    from helpdesk.tenants.models import Membership

    Membership.objects.filter(user=site.agent).update(availability=Membership.Availability.ONLINE)
    agent = pages.new_page()
    console_login(agent, site.agent, "Alice")
    return agent


def open_in_console(agent: Page, *, preview: str | re.Pattern | None = None) -> None:
    agent.get_by_test_id("tab-all").click()
    item = agent.get_by_test_id("conversation-item")
    expect(item).to_have_count(1)
    if preview is not None:
        expect(item.get_by_test_id("conversation-preview")).to_have_text(preview)
    item.locator("a").click()
    expect(agent.get_by_test_id("conversation")).to_be_visible()


def loaded(image) -> bool:
    return image.evaluate("img => img.complete && img.naturalWidth > 0")


def test_image_from_the_widget_reaches_the_console_and_opens_full_size(pages, site):
    agent = agent_online(pages, site)
    customer = pages.new_page()
    open_widget(customer)
    expect(customer.get_by_test_id("attach-button")).to_be_visible()
    customer_send(customer, "Hello, the checkout page shows an error")

    attach_in_widget(customer, "checkout-error.png", "image/png", png_bytes())
    chip = customer.get_by_test_id("attachment-chip")
    expect(chip).to_have_count(1)
    expect(chip).to_have_attribute("data-state", "done")
    expect(chip.get_by_test_id("attachment-chip-name")).to_have_text("checkout-error.png")
    expect(customer.get_by_test_id("send")).to_be_enabled()  # files alone may be sent
    shoot(customer, "widget-chips")

    customer.get_by_test_id("input").fill("Here is a screenshot")
    customer.keyboard.press("Enter")
    expect(chip).to_have_count(0)
    mine = widget_messages(customer).filter(has_text="Here is a screenshot")
    expect(mine).to_have_attribute("data-seq", SEQ)
    expect(mine).to_have_attribute("data-state", "complete")
    thumb = mine.get_by_test_id("attachment-image")
    expect(thumb).to_be_visible()
    img = thumb.locator("img")
    expect(img).to_have_attribute("src", re.compile(r"^http://127\.0\.0\.1:\d+/files/"))
    customer.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img.element_handle())
    # The box has the image's shape (640×400) before and after it loads.
    box = img.bounding_box()
    assert box
    assert abs(box["width"] / box["height"] - 1.6) < 0.05, box
    shoot(customer, "widget-image")

    # Full size in the lightbox; Escape closes it and leaves the panel open.
    thumb.click()
    full = customer.get_by_test_id("lightbox-image")
    expect(full).to_be_visible()
    customer.wait_for_function(
        "el => el.complete && el.naturalWidth === 640", arg=full.element_handle()
    )
    shoot(customer, "lightbox")
    customer.keyboard.press("Escape")
    expect(customer.get_by_test_id("lightbox")).to_have_count(0)
    expect(customer.get_by_test_id("panel")).to_be_visible()

    # A message of a file alone: no empty bubble, and the console's list says what it is.
    attach_in_widget(customer, "second.png", "image/png", png_bytes(300, 300))
    expect(chip).to_have_attribute("data-state", "done")
    customer.get_by_test_id("send").click()
    only_file = widget_messages(customer).last
    expect(only_file).to_have_attribute("data-state", "complete")
    expect(only_file.get_by_test_id("attachment-image")).to_be_visible()
    expect(only_file.locator(".bubble")).to_be_hidden()

    # "📎 Attachment", or the file's name if the server puts it in the preview.
    open_in_console(agent, preview=re.compile(r"^📎 (Attachment|second\.png)$"))
    shown = transcript(agent).filter(has_text="Here is a screenshot")
    console_img = shown.get_by_test_id("attachment-image").locator("img")
    expect(console_img).to_be_visible()
    agent.wait_for_function(
        "el => el.complete && el.naturalWidth > 0", arg=console_img.element_handle()
    )
    shoot(agent, "console-image")

    # Open it full size: a new tab with the image itself.
    with agent.expect_popup() as popup_info:
        shown.get_by_test_id("attachment-image").click()
    popup = popup_info.value
    popup.wait_for_load_state()
    assert popup.evaluate("document.contentType") == "image/png"
    assert popup.evaluate("document.images[0] && document.images[0].naturalWidth") == 640


def test_files_over_the_limits_are_refused_with_the_reason(pages, site):
    site.inbox.attachment_max_mb = 1
    site.inbox.save(update_fields=["attachment_max_mb"])
    agent_online(pages, site)
    customer = pages.new_page()
    uploads = []
    customer.on("request", lambda r: uploads.append(r) if UPLOADS.search(r.url) else None)
    open_widget(customer)
    notice = customer.get_by_test_id("notice")

    # Too large: the widget knows the limit and says so without uploading anything.
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)
    attach_in_widget(customer, "manual.pdf", "application/pdf", big)
    expect(notice).to_be_visible()
    expect(notice).to_have_text("“manual.pdf” is too large. Files can be at most 1 MB.")
    expect(notice).to_have_attribute("data-tone", "error")
    expect(customer.get_by_test_id("attachment-chip")).to_have_count(0)
    assert uploads == []
    shoot(customer, "error")

    # A type the widget cannot tell (no signature, called text by its name): the server reads
    # the content, refuses it, and the widget says why.
    binary = bytes(range(256)) * 8
    with customer.expect_response(UPLOADS) as answer:
        attach_in_widget(customer, "notes.txt", "text/plain", binary)
    assert answer.value.status == 415
    expect(notice).to_have_text("Files like “notes.txt” cannot be sent here.")
    expect(customer.get_by_test_id("attachment-chip")).to_have_count(0)
    assert len(uploads) == 1

    # A renamed file whose bytes say what it is: refused before the upload.
    attach_in_widget(customer, "photo.png", "image/png", b"PK\x03\x04" + b"\x00" * 200)
    expect(notice).to_have_text("Files like “photo.png” cannot be sent here.")
    assert len(uploads) == 1

    # The same on a phone, with a chip next to the error.
    phone = pages.new_page(viewport=PHONE)
    open_widget(phone)
    attach_in_widget(phone, "receipt.png", "image/png", png_bytes(200, 320))
    expect(phone.get_by_test_id("attachment-chip")).to_have_attribute("data-state", "done")
    attach_in_widget(phone, "manual.pdf", "application/pdf", big)
    expect(phone.get_by_test_id("notice")).to_contain_text("too large")
    shoot(phone, "phone-error-and-chip")

    # An inbox that takes no files shows no paperclip, and says so for a dropped file.
    site.inbox.attachments_enabled = False
    site.inbox.save(update_fields=["attachments_enabled"])
    closed = pages.new_page()
    open_widget(closed)
    give_png(closed)
    expect(closed.get_by_test_id("attach-button")).to_be_hidden()
    closed.get_by_test_id("panel").evaluate(
        "(panel, name) => (" + DROP_JS + ")([panel, name])", "dropped.png"
    )
    expect(closed.get_by_test_id("notice")).to_have_text("Files cannot be sent here.")
    expect(closed.get_by_test_id("attachment-chip")).to_have_count(0)


def test_uploaded_html_is_downloaded_not_rendered(pages, site):
    agent_online(pages, site)
    customer = pages.new_page()
    open_widget(customer)
    html = (
        b"<!doctype html><title>page</title><script>document.title='pwned';"
        b"window.parent.postMessage('pwned','*')</script><h1>Hi</h1>"
    )
    attach_in_widget(customer, "page.html", "text/html", html)
    expect(customer.get_by_test_id("attachment-chip")).to_have_attribute("data-state", "done")
    customer.get_by_test_id("send").click()
    row = widget_messages(customer).last.get_by_test_id("attachment-file")
    expect(row).to_be_visible()
    expect(row).to_have_attribute("download", "page.html")
    expect(row).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    href = row.get_attribute("href")
    assert href
    assert "/files/" in href

    # Served as a download: not HTML, not sniffed, not run.
    response = customer.context.request.get(href)
    assert response.status == 200
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert not response.headers["content-type"].startswith("text/html")

    # Going to its address starts a download instead of showing a page.
    visitor = customer.context.new_page()
    with (
        visitor.expect_download() as download_info,
        pytest.raises(PlaywrightError, match="Download is starting"),
    ):
        visitor.goto(href)
    assert download_info.value.suggested_filename == "page.html"
    assert visitor.title() != "pwned"


def test_agent_sends_a_pdf_that_the_widget_offers_as_a_download(pages, site):
    agent = agent_online(pages, site)
    customer = pages.new_page()
    open_widget(customer)
    customer_send(customer, "Can I have the invoice, please?")

    open_in_console(agent)
    expect(agent.get_by_test_id("attach-button")).to_be_visible()
    chip = agent.get_by_test_id("attachment-chip")
    # A program is no file type anyone may send: the server says no, the console says why.
    agent.get_by_test_id("attach-input").set_input_files(
        files=[
            {
                "name": "setup.exe",
                "mimeType": "application/x-msdownload",
                "buffer": b"MZ\x90\x00" + bytes(300),
            }
        ]
    )
    expect(agent.get_by_test_id("attachment-error")).to_have_text(
        re.compile("Files like “setup.exe” cannot be sent here.")
    )
    expect(chip).to_have_count(0)
    shoot(agent, "console-error")

    agent.get_by_test_id("attach-input").set_input_files(
        files=[{"name": "invoice-1234.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    expect(chip).to_have_attribute("data-state", "done")
    agent.get_by_test_id("composer-input").fill("Here it is")
    agent.keyboard.press("Enter")
    sent = transcript(agent).filter(has_text="Here it is")
    expect(sent).to_have_attribute("data-seq", SEQ)
    expect(sent.get_by_test_id("attachment-name")).to_have_text("invoice-1234.pdf")
    shoot(agent, "console-pdf")

    got = widget_messages(customer).filter(has_text="Here it is")
    expect(got).to_have_attribute("data-sender", "agent")
    link = got.get_by_test_id("attachment-file")
    expect(link).to_be_visible()
    expect(link.get_by_test_id("attachment-name")).to_have_text("invoice-1234.pdf")
    expect(link).to_have_attribute("download", "invoice-1234.pdf")
    expect(link).to_have_attribute("href", re.compile(r"^http://127\.0\.0\.1:\d+/files/"))
    shoot(customer, "widget-pdf")
    customer.emulate_media(color_scheme="dark")  # the widget follows the page's scheme
    shoot(customer, "widget-pdf-dark")
    customer.emulate_media(color_scheme="light")
    with customer.expect_download() as download_info:
        link.click()
    assert download_info.value.suggested_filename == "invoice-1234.pdf"

    # In a private note too; the customer never sees it.
    agent.get_by_test_id("note-toggle").click()
    expect(agent.get_by_test_id("attach-button")).to_be_visible()
    agent.get_by_test_id("attach-input").set_input_files(
        files=[{"name": "internal.txt", "mimeType": "text/plain", "buffer": b"VIP customer\n"}]
    )
    expect(chip).to_have_attribute("data-state", "done")
    agent.get_by_test_id("send-button").click()
    note = transcript(agent).last
    expect(note).to_have_attribute("data-kind", "note")
    expect(note.get_by_test_id("attachment-name")).to_have_text("internal.txt")
    expect(note).to_have_attribute("data-seq", SEQ)
    shoot(agent, "console-note-file")
    customer_send(customer, "Thanks!")
    expect(customer.get_by_test_id("panel")).not_to_contain_text("internal.txt")


# Files put into the page as a person would drop or paste them: a DataTransfer with a File.
DROP_JS = """([target, name]) => {
  const bytes = Uint8Array.from(atob(window.__png), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type: "image/png" }));
  const fire = (type) => target.dispatchEvent(
    new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
  fire("dragenter");
  fire("dragover");
  const zone = target.querySelector("[data-testid=dropzone]");
  const shown = !!zone && !zone.hidden;
  fire("drop");
  return shown;
}"""
PASTE_JS = """([target, name]) => {
  const bytes = Uint8Array.from(atob(window.__png), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type: "image/png" }));
  return target.dispatchEvent(
    new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
}"""


def give_png(page: Page) -> None:
    import base64

    page.evaluate("b64 => { window.__png = b64; }", base64.b64encode(png_bytes(120, 80)).decode())


def test_drag_and_drop_and_paste_add_files_in_the_widget_and_the_console(pages, site):
    agent = agent_online(pages, site)
    customer = pages.new_page(viewport=PHONE)
    open_widget(customer)
    customer_send(customer, "Two pictures coming")
    give_png(customer)
    # The drop zone shows while files are dragged over the panel; the drop adds a chip.
    shown = customer.get_by_test_id("panel").evaluate(
        "(panel, name) => (" + DROP_JS + ")([panel, name])", "dropped.png"
    )
    assert shown is True
    expect(customer.get_by_test_id("dropzone")).to_be_hidden()
    # A pasted screenshot is a file; the paste puts no text in the box.
    not_cancelled = customer.get_by_test_id("input").evaluate(
        "(input, name) => (" + PASTE_JS + ")([input, name])", "pasted.png"
    )
    assert not_cancelled is False
    chips = customer.get_by_test_id("attachment-chip-name")
    expect(chips).to_have_text(["dropped.png", "pasted.png"])
    shoot(customer, "phone-chips")
    customer.get_by_test_id("send").click()
    expect(widget_messages(customer).last.get_by_test_id("attachment-image")).to_have_count(2)
    expect(widget_messages(customer).last).to_have_attribute("data-state", "complete")
    for img in widget_messages(customer).last.locator("img").all():
        customer.wait_for_function(
            "el => el.complete && el.naturalWidth > 0", arg=img.element_handle()
        )
    shoot(customer, "phone-images")
    widget_messages(customer).last.get_by_test_id("attachment-image").first.click()
    expect(customer.get_by_test_id("lightbox-image")).to_be_visible()
    customer.wait_for_function(
        "el => el.complete && el.naturalWidth > 0",
        arg=customer.get_by_test_id("lightbox-image").element_handle(),
    )
    shoot(customer, "phone-lightbox")
    customer.get_by_test_id("lightbox-close").click()
    expect(customer.get_by_test_id("lightbox")).to_have_count(0)

    open_in_console(agent)
    give_png(agent)
    shown = agent.get_by_test_id("conversation").evaluate(
        "(thread, name) => (" + DROP_JS + ")([thread, name])", "from-agent.png"
    )
    assert shown is True
    agent.get_by_test_id("composer-input").evaluate(
        "(input, name) => (" + PASTE_JS + ")([input, name])", "pasted-by-agent.png"
    )
    names = agent.get_by_test_id("attachment-chip-name")
    expect(names).to_have_text(["from-agent.png", "pasted-by-agent.png"])
    expect(agent.get_by_test_id("attachment-chip").last).to_have_attribute("data-state", "done")
    expect(agent.get_by_test_id("attachment-chip").first).to_have_attribute("data-state", "done")
    agent.get_by_test_id("send-button").click()
    expect(transcript(agent).last.get_by_test_id("attachment-image")).to_have_count(2)
    expect(transcript(agent).last).to_have_attribute("data-seq", SEQ)
    got = widget_messages(customer).last
    expect(got).to_have_attribute("data-sender", "agent")
    expect(got.get_by_test_id("attachment-image")).to_have_count(2)


def test_a_message_waits_for_its_uploads_and_a_retry_uploads_only_what_failed(pages, site):
    agent_online(pages, site)
    customer = pages.new_page()
    open_widget(customer)
    customer_send(customer, "Photos of the parcel")
    held = []
    posted: dict[str, int] = {}

    def upload(route) -> None:
        body = route.request.post_data_buffer or b""
        name = "b.png" if b'filename="b.png"' in body else "a.png"
        posted[name] = posted.get(name, 0) + 1
        if name == "b.png" and posted[name] == 1:
            held.append(route)  # answered below, once the message waits for it
        else:
            route.continue_()

    customer.route(UPLOADS, upload)
    customer.get_by_test_id("attach-input").set_input_files(
        files=[
            {"name": "a.png", "mimeType": "image/png", "buffer": png_bytes(200, 100)},
            {"name": "b.png", "mimeType": "image/png", "buffer": png_bytes(100, 200)},
        ]
    )
    chips = customer.get_by_test_id("attachment-chip")
    expect(chips.first).to_have_attribute("data-state", "done")
    expect(chips.last).to_have_attribute("data-state", "uploading")
    customer.get_by_test_id("send").click()
    waiting = widget_messages(customer).last
    expect(waiting).to_have_attribute("data-state", "pending")
    expect(waiting.get_by_test_id("message-meta")).to_contain_text("Uploading")
    assert held, "b.png's upload should be in flight"

    held[0].fulfill(
        status=503,
        content_type="application/json",
        body='{"error": {"code": "server_error", "message": "down"}}',
    )
    expect(waiting).to_have_attribute("data-state", "failed")
    expect(waiting.get_by_test_id("message-error")).to_have_text(
        "Something went wrong on our side. Please try again."
    )
    waiting.get_by_test_id("retry").click()
    expect(waiting).to_have_attribute("data-state", "complete")
    expect(waiting).to_have_attribute("data-seq", SEQ)
    expect(waiting.get_by_test_id("attachment-image")).to_have_count(2)
    assert posted == {"a.png": 1, "b.png": 2}


WIDGET_SOCKET = re.compile(r"^wss?://[^/]+/ws/widget/")


def test_an_unsent_message_with_a_file_is_sent_after_a_reload_without_uploading_again(pages, site):
    agent_online(pages, site)
    lose_sends = {"on": False}

    def relay(ws) -> None:
        server = ws.connect_to_server()

        def to_server(message) -> None:
            # While "on", the widget's messages with files get lost on the way (a dying
            # connection): the widget has the upload done, the server never hears of it.
            if lose_sends["on"] and '"attachments"' in str(message):
                return
            server.send(message)

        ws.on_message(to_server)

    customer = pages.new_page(
        setup=lambda context, page: context.route_web_socket(WIDGET_SOCKET, relay)
    )
    uploads = []
    customer.on("request", lambda r: uploads.append(r) if UPLOADS.search(r.url) else None)
    open_widget(customer)
    customer_send(customer, "One more picture")

    lose_sends["on"] = True
    attach_in_widget(customer, "later.png", "image/png", png_bytes(160, 120))
    expect(customer.get_by_test_id("attachment-chip")).to_have_attribute("data-state", "done")
    customer.get_by_test_id("send").click()
    pending = widget_messages(customer).last
    expect(pending).to_have_attribute("data-state", "pending")
    expect(pending.get_by_test_id("attachment-image")).to_be_visible()

    lose_sends["on"] = False
    customer.reload()
    customer.wait_for_function("window.HelpdeskWidget && HelpdeskWidget.state().connected")
    if not customer.get_by_test_id("panel").is_visible():
        customer.get_by_test_id("launcher").click()
    sent = widget_messages(customer).last
    expect(sent).to_have_attribute("data-state", "complete")
    expect(sent).to_have_attribute("data-seq", SEQ)
    expect(sent.get_by_test_id("attachment-image")).to_have_count(1)
    assert len(uploads) == 1  # the file went up once; the message went again with its id
