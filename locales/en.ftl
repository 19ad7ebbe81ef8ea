lang-name = English
number-group-separator = ,
date = { $day } { $month-name } { $year }
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December

## Workspace texts in the console: one row per offered language
texts-title = Title
texts-wording = Wording
texts-description = Description
texts-label = Label
texts-default-hint = The workspace's default language: required.
texts-optional-hint = Optional.
texts-untranslated-hint = Not translated yet: people reading this language see the { $default } text.
texts-choices-hint = One choice a line: value|label, the labels in this order: { $order } (an empty one is not translated).
texts-email-label = Email address

## Policy pages: the wording in each published language
policy-shown-hash = Fingerprint of the wording shown here (SHA-256)
policy-published-in = Published in

## Retention periods ("1 year 6 months")
retention-years = { $count ->
    [one] { $count } year
   *[other] { $count } years
}
retention-months = { $count ->
    [one] { $count } month
   *[other] { $count } months
}
retention-days = { $count ->
    [one] { $count } day
   *[other] { $count } days
}
retention-separator = { " " }
