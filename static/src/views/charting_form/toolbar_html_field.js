import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { HtmlField, htmlField } from "@html_editor/fields/html_field";

/**
 * An html field with its formatting bar always in view, above the text: the provider sees at
 * once that the group notes take bold, lists and headings (Odoo's own bar only appears on a
 * selection). Each button runs the editor's own command.
 */
export class ToolbarHtmlField extends HtmlField {
    static template = "group_therapy.ToolbarHtmlField";

    get formattingButtons() {
        return [
            { command: "formatBold", icon: "fa-bold", title: _t("Bold") },
            { command: "formatItalic", icon: "fa-italic", title: _t("Italic") },
            { command: "formatUnderline", icon: "fa-underline", title: _t("Underline") },
            { command: "toggleListUL", icon: "fa-list-ul", title: _t("Bulleted list") },
            { command: "toggleListOL", icon: "fa-list-ol", title: _t("Numbered list") },
        ];
    }

    runFormatting(command) {
        const editor = this.editor;
        if (!editor) {
            return;
        }
        editor.shared.selection.focusEditable(); // a click on the bar before any in the text
        editor.shared.userCommand.getCommand(command).run();
    }
}

registry.category("fields").add("therapy_html_toolbar", {
    ...htmlField,
    component: ToolbarHtmlField,
});
