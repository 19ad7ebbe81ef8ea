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

## The workspace's languages (console)
nav-languages = Languages
languages-title = Languages
languages-intro = The languages your forms, preference center and mails are offered in. People get the one their browser asks for (or the one they choose); every text falls back to the default language where it is not translated.
languages-col-language = Language
languages-col-tag = Tag
languages-col-default = Default
languages-make-default = Make default
languages-remove = Stop offering
languages-add = Offer this language
languages-add-label = Add a language
languages-untranslated-title = Not translated yet
languages-untranslated-none = Every text is written in every offered language.
languages-col-text = Text
languages-col-missing = Missing in
languages-saved = The languages are saved.
languages-purpose-title = Purpose { $purpose }: title
languages-purpose-wording = Purpose { $purpose }: wording
languages-form-text = Form { $form }: { $place }
