"""A person takes over a chat ("Gặp cán bộ").

A citizen who agrees (they are told first that a person will read the conversation) waits in
their ward's queue; a team member of that ward on duty claims the chat in the console, reads
the last messages and writes; the reply goes out on the citizen's channel through the
database-shared rate limits; the assistant stays silent in that chat except for danger; closing
hands the chat back and asks for 👍/👎. Everything lives in the database, so any number of
``trolyso run`` processes serve the same chats.

Modules:

* ``hours``: office hours, who is on duty;
* ``desk``: requests, the queue and the expected wait, claims (one operator: a conditional
  UPDATE), messages, release and close, the transcript an operator reads;
* ``chat``: the citizen's side, plugged into the assistant (the offer, consent, the queue, the
  gate that keeps the assistant silent in a claimed chat);
* ``sender``: delivers operator messages and alerts through the channels, at the platforms'
  pace (the same database-shared limits as notices), and sweeps idle claims;
* ``live``: long polls that wake when something changed in the database.
"""
