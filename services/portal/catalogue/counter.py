"""The words of the portal's counter pages, (zh-CN, en) by message id; merged into i18n.MESSAGES."""

MESSAGES = {
}
