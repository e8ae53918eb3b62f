"""The web app: Flask app factory, LTI endpoints and pages."""
