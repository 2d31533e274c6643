"""SuperOffice EMail agent suite (SendEMails), judged by the mail the sink receives."""
