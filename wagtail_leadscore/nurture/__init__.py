"""Nurture sequences: emails on a timetable per contact, with branches on what the contact
did with the previous email, exits, a sending window and the frequency cap."""
