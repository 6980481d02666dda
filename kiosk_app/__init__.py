"""The PySide6 kiosk application participants use; Qt lives only in kiosk_app.ui."""
