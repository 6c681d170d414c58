"""The words of the portal's reviews pages, (zh-CN, en) by message id; merged into i18n.MESSAGES."""

MESSAGES = {
}
