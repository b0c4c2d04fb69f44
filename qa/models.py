# QA scorecards and evaluations arrive with the QA issue; recordings live on telephony.Call.
