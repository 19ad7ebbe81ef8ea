## Language, dates and numbers
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
## Public pages: forms, thanks, policies, errors
page-required-marker = required
page-optional-marker = optional
page-required-purpose = [Required]
page-optional-purpose = [Optional]
page-purposes-legend = How we may use your information
page-purposes-hint = Tick what you agree to. Optional items can be left unticked; you will still get the service, and you can change your mind at any time.
page-retention-label = Kept for
page-policy-link = Full text
page-submit = Submit
page-error-summary = Please correct the highlighted fields.
page-thanks-title = Thank you
page-thanks-body = We have received your submission and recorded your choices.
page-thanks-back = Back to the form
page-not-found = This page does not exist.
page-unauthorized = A valid API key is required (Authorization: Bearer …).
page-unavailable = The service is briefly unavailable and nothing was saved. Please try again in a moment.
page-internal = Something went wrong on our side and nothing was saved. Please try again.
page-error-title = Sorry
page-policy-title = Policy
page-policy-published = Published
page-policy-hash = Fingerprint (SHA-256)
page-select-placeholder = Choose…
page-rate-limited = Too many requests. Please wait a while and try again.
page-thanks-pending = We have sent you an email: please click the link in it to confirm your subscription. Until you do, nothing will be sent to you.
page-thanks-dropped = You filled these in, but did not agree to any purpose they are used for, so we did not keep them:
page-used-for = Used for:

## Preference center (/me)
me-title = Your data and consents
me-intro = See, correct, export or delete the data we hold about you, and choose what you agree to. No password needed: we send a sign-in link to your email address.
me-email-label = Email address
me-send-link = Send me a sign-in link
me-sent-title = Check your inbox
me-sent-body = If we hold data for this address, a sign-in link is on its way. It works once, for 15 minutes.
me-continue-title = Sign in
me-continue-body = Continue to see and manage the data we hold about you.
me-continue-button = Continue
me-ask-again = Ask for a new link
me-held-title = What we hold about you
me-external-id = Your id in our customer records:
me-held-none = We hold no values about you.
me-col-field = Information
me-col-value = Value
me-col-source = Given on
me-col-purposes = Kept for
me-save = Save
me-consents-title = What you agreed to
me-status-granted = Agreed
me-status-withdrawn = Withdrawn
me-status-pending = Waiting for your confirmation
me-status-expired = Expired
me-status-never = Not given
me-version = wording version
me-withdraw = Withdraw
me-grant = Agree
me-close-account = Close my account and delete my data
me-required-note = Needed to provide the service: withdrawing it closes your account.
me-history-title = History
me-col-when = When (UTC)
me-col-purpose = Purpose
me-col-action = What happened
me-col-how = How
me-export-title = Take your data with you
me-export-json = Download as JSON
me-export-csv = Download as CSV
me-receipt = Download your consent receipt (signed)
me-delete-title = Delete everything
me-delete-body = This deletes all the data we hold about you and destroys the key that protects it. It cannot be undone. We keep only a record, naming no one, that a deletion took place, and send one last mail to confirm.
me-delete-button = Yes, delete everything
me-delete-link = Delete all my data
me-cancel = Cancel
me-deleted-title = Your data has been deleted
me-deleted-body = Everything we held about you is gone. A confirmation is on its way to your address.
me-sign-out = Sign out
me-done = Saved. Your updated consent receipt is ready to download.
me-confirm-title = Confirm your subscription
me-confirm-body = Confirm that you want to receive what you ticked.
me-confirm-button = Yes, I confirm
me-confirmed-title = Thank you, confirmed
me-confirmed-body = Your subscription is confirmed. You can withdraw at any time.
me-unsubscribe-title = Unsubscribe
me-unsubscribe-body = Stop receiving these messages? Your other choices stay as they are.
me-unsubscribe-button = Unsubscribe
me-unsubscribed-title = You are unsubscribed
me-unsubscribed-body = You will not receive these messages any more.
me-manage-link = Manage all your data and consents
me-renew-title = Extend your consent
me-renew-body = Keep this consent, and the data it covers, for another period?
me-renew-button = Yes, extend
me-decline-title = Let your consent end
me-decline-body = End this consent now? The data kept only for it will be deleted.
me-decline-button = End it and delete that data
me-renewed-title = Extended
me-renewed-body = Thank you. Your consent now runs for another period.
me-declined-title = Ended
me-declined-body = Your consent has ended and the data kept only for it has been deleted.

## Console: shell, purposes, forms, keys
console-console = Assent console
console-skip-link = Skip to content
console-nav-label = Console
console-nav-dashboard = Dashboard
console-nav-purposes = Purposes
console-nav-forms = Forms
console-nav-submissions = Submissions
console-nav-rights = Rights requests
console-nav-audit = Audit log
console-nav-keys = API keys
console-signed-in-as = Signed in as
console-role-owner = owner
console-role-viewer = viewer (read only)
console-sign-out = Sign out
console-sign-in-title = Sign in to the console
console-sign-in-intro = For the site's owners and staff. Customers manage their data at /me.
console-email = Email address
console-password = Password
console-sign-in = Sign in
console-error-summary = Please correct the highlighted fields.
console-dashboard-intro = What your forms collected, and what people agreed to.
console-read-only = You can read everything here; changes need the owner role.
console-save = Save
console-create = Create
console-cancel = Cancel
console-edit = Edit
console-yes = yes
console-no = no
console-none = None yet.
console-saved = Saved.
console-keys-intro = Keys let your own servers call the JSON API (for example a CRM asking whether it may contact someone). A key is shown once; only its hash is kept.
console-key-name = Name
console-key-prefix = Starts with
console-created = Created (UTC)
console-key-state = State
console-key-live = in use
console-key-revoked = revoked
console-revoke = Revoke
console-new-key = New key
console-create-key = Create key
console-key-created = Your new key. Copy it now: it will not be shown again.
console-actions = Actions
console-purposes-intro = What you collect data for. Changing the wording publishes a new policy version; people keep the version they agreed to.
console-new-purpose = New purpose
console-edit-purpose = Edit purpose
console-key-label = Key
console-key-hint = Used in URLs and the API: a-z, 0-9 and _, starting with a letter. It cannot be changed later.
console-legal-basis = Legal basis
console-basis-consent = Consent
console-basis-contract = Contract
console-basis-legal-obligation = Legal obligation
console-basis-legitimate-interest = Legitimate interest
console-required-label = Required for the service
console-channel = Channel
console-channel-none = None
console-channel-email = Email
console-channel-sms = Text message
console-channel-push = Push notification
console-retention = Retention
console-retention-hint = A period such as 2y, 6m, 90d or 1y6m, or choose a statutory preset below.
console-retention-preset = Statutory preset
console-preset-none = No preset: use the period above
console-preset-payment = Payment and contract records: 5 years
console-preset-disputes = Complaints and disputes: 3 years
console-preset-advertising = Advertising records: 6 months
console-preset-marketing = Marketing: 2 years
console-renewal-window = Renewal window (days before expiry)
console-category = Purpose category (named in consent receipts)
console-category-implied = Implied by the legal basis and channel
console-third-parties = Provided to third parties
console-third-parties-hint = One recipient a line. Leave empty when the data is provided to no one.
console-sensitive = Processes sensitive data (health, beliefs, biometrics and the like)
console-current-version = Current version
console-agreed-per-version = Agreed, per version
console-published-version = Saved. A new policy version was published.
console-forms-intro = Each form is built here as a draft; publishing makes an immutable version. Submissions keep pointing at the version they were made on.
console-new-form = New form
console-form-kind = Kind
console-published = Published version
console-not-published = not published
console-draft-changes = Draft has unpublished changes
console-fields-title = Fields
console-field-key = Field key
console-field-type = Type
console-max-length = Maximum length
console-choices = Choices
console-serves = Serves purposes
console-add-field = Add field
console-save-field = Save field
console-move-up = Move up
console-move-down = Move down
console-remove = Remove
console-settings-title = Form settings
console-asked-purposes = Purposes asked
console-allowed-origins = Allowed origins (one per line, e.g. https://shop.example)
console-double-opt-in = Double opt-in (confirm by email)
console-save-settings = Save settings
console-preview = Preview
console-preview-note = Preview of the draft: this is how the form will look. It cannot be submitted.
console-publish = Publish
console-publish-title = Publish
console-publish-hint = Publishing creates a new immutable version that the public form serves at once.
console-published-now = Published.
console-nothing-to-publish = The draft is the same as the published version: nothing to publish.
console-back-to-forms = All forms
console-open-public = Open the public form
console-type-email = Email
console-type-text = Text
console-type-textarea = Long text
console-type-tel = Phone
console-type-date = Date
console-type-select = Choice list

## Console: access records (개인정보의 안전성 확보조치 기준 art. 8)

nav-access = Access records
access-title = Access records
access-intro = Every time a console account or an API key read or acted on a person's data: who, when, from where (an IP pseudonym), whose data (their id) and what. Kept at least two years, hash-chained and covered by the signed tree heads.
access-filter-legend = Filter
access-filter-subject = Person (subject id)
access-filter-actor = Account or API key (id)
access-filter-action = Action
access-filter-from = From
access-filter-until = Until
access-any = Any
access-apply-filter = Apply
access-invalid-filter = Some filters were not understood and were ignored.
access-col-seq = No.
access-col-when = When (UTC)
access-col-actor = Who
access-col-action = Action
access-col-subject = Whose data
access-col-ip = From (IP pseudonym)
access-col-path = Route
access-col-times = Times
access-last = last
access-nobody = Nobody named
access-none = No access records match.
access-next-rows = Older records

## Console: dashboard, submissions, rights, audit, embedding
data-dash-per-day = Submissions per day, last 30 days
data-dash-per-purpose = Consents given and withdrawn per purpose, last 30 days
data-dash-expiring = Consents expiring per week, next 12 weeks
data-series-submissions = Submissions
data-series-granted = Given
data-series-withdrawn = Withdrawn
data-series-expiring = Expiring
data-col-day = Day
data-col-week = Week of
data-col-purpose = Purpose
data-sub-title = Submissions
data-filter-legend = Filter
data-filter-form = Form
data-filter-purpose = Purpose
data-filter-state = Consent state
data-filter-from = From (date)
data-filter-until = Until (date, inclusive)
data-filter-email = Exact email address
data-filter-email-hint = Found through the blind index: only an exact address matches.
data-any = Any
data-apply-filter = Show
data-col-submitted = Submitted (UTC)
data-col-form = Form
data-col-subject = Person (id)
data-col-consents = Consent now
data-open = Open
data-no-results = No submissions match.
data-next-page = Older submissions
data-next-rows = More (older)
data-exports = Export (CSV)
data-export-submissions = Submissions with these filters
data-export-consents = Current consent state of everyone
data-export-owner-only = Exports contain personal data: only owners can download them, and each download is recorded in the audit log.
data-detail-title = Submission
data-detail-audited = Opening this page was recorded in the audit log, with your account and this person's id.
data-col-field = Field
data-col-value = Value
data-erased = This person's data has been erased.
data-no-values = No values are held from this submission (none of their purposes is in force).
data-back-to-list = Back to submissions
data-col-status = State
data-col-expires = Expires (UTC)
data-rights-title = Rights requests
data-rights-gdpr = Deadlines follow the GDPR: one month from receipt.
data-rights-pipa = Deadlines follow PIPA: ten days from receipt.
data-col-kind = Right
data-col-channel = Channel
data-col-received = Received (UTC)
data-col-deadline = Deadline (UTC)
data-col-completed = Completed (UTC)
data-overdue = Overdue
data-not-completed = Not completed
data-no-rights = No rights requests yet.
data-audit-title = Audit log
data-col-when = When (UTC)
data-col-actor = Who
data-col-action = Action
data-col-detail = Detail
data-filter-actor = Actor kind
data-filter-action = Action
data-filter-subject = Person (id)
data-no-audit = No entries match.
data-embed-title = Put this form on your site
data-embed-intro = Copy one of these snippets into your page. Select the text in a box and copy it.
data-embed-origins = Allowed origins (may frame the form, call the API from a browser, and receive the person back)
data-embed-no-origins = No origin is allowed yet: the iframe, the fetch example and the redirect back work only from allowed origins. Add your site's origin to the form first.
data-snip-iframe = 1. Iframe (resizes to its content)
data-snip-iframe-help = Assent renders the form, its consent wording and its errors; embed.js keeps the frame as tall as the form.
data-snip-html = 2. Plain HTML form (posts to Assent, comes back)
data-snip-html-help = Works without JavaScript. After success the person returns to the redirect address, if it is on an allowed origin; after a mistake Assent shows its own form with the messages.
data-snip-fetch = 3. JavaScript fetch (JSON API)
data-snip-fetch-help = For your own front end; show the purposes' wording yourself and send only what the person ticked.
data-snip-curl = 4. curl
data-snip-curl-help = To try the API from a terminal.
data-embed-link = Embed
data-invalid-filter = Some filters were not understood and were ignored: dates are YYYY-MM-DD, addresses must be valid.
## Public pages: sentences with arguments
page-too-large = The request is too large (at most { $kib } KiB).
page-unsupported-media-type = Unsupported content type: send { $expected }.
page-invalid-utf8 = The request is not valid UTF-8.
# The label of the list of languages a page is offered in.
languages-label = Language

## Preference center: dates of a consent ($date is a calendar date)
me-since = since { $date }
me-until = until { $date }

## Problems, by stable code (problem-<code>); codes without their own sentence say problem-general
problem-general = The request could not be completed.
problem-subject-erased = This person's data has been erased.
problem-not-granted = That consent is not currently given, so there is nothing to withdraw.
problem-already-granted = That consent is already given.
problem-required-purpose = This purpose is needed for the service; withdrawing it means deleting the account.
problem-email-in-use = Another person already uses that address.
problem-external-id-taken = Another person already has that external id.
problem-link-invalid = This link is not valid. Ask for a new one.
problem-link-expired = This link has expired. Ask for a new one.
problem-link-used = This link has already been used. Ask for a new one.
problem-csrf-failed = This page was open too long or came from elsewhere. Reload it and try again.
problem-cross-site-post = This form can only be sent from its own page or from a site its owner allows. Nothing was saved: open the form on its own page and send it there.
problem-bundled-consent = A purpose needed for the service cannot rest on consent.
problem-session-required = Please sign in again.
problem-method-not-allowed = This address does not answer that method; see the Allow header.

## Refused fields, by stable code (field-error-<code>)
field-error-required = This field is required.
field-error-invalid-email = Enter an email address like name@example.com.
field-error-invalid-phone = Enter a phone number of 6 to 20 digits, e.g. 010-1234-5678.
field-error-invalid-date = Enter a date as YYYY-MM-DD.
field-error-invalid-choice = Choose one of the options.
field-error-too-long = Use at most { $max } characters.
field-error-invalid-characters = Remove the control characters from this field.
field-error-unknown-field = This form has no such field.
field-error-duplicate-field = This field was sent more than once.
field-error-unknown-purpose = This form does not ask for that purpose.
field-error-purpose-required = This consent is required to provide the service.
field-error-wording-changed = This wording changed while the form was open. Please read it again and send the form again.
field-error-invalid-type = This value must be text.

## Console: sentences by stable code (console-says-<code>); other codes are said as problem-<code>
console-says-bad-credentials = The email address or password is not right.
console-says-locked = Too many failed attempts: this account is locked for 15 minutes. Please try again later.
console-says-email-required = Enter your email address.
console-says-password-required = Enter your password.
console-says-owner-role-required = Only owners can change this; your account can read only.
console-says-csrf-failed = This page was open too long or came from elsewhere. Reload it and try again.
console-says-session-required = Your session has ended. Please sign in again.
console-says-rate-limited = Too many sign-in attempts. Please wait a while and try again.
console-says-key-taken = This key is already used.
console-says-invalid-retention = Enter a period such as 2y, 6m, 90d or 1y6m, or choose a preset.
console-says-invalid-choice = Choose one of the options.
console-says-invalid-number = Enter a whole number from 0 to 365.
console-says-invalid-length = Enter a whole number from 1 to 10000, or leave it empty.
console-says-invalid-origin = Each line must be an origin like https://shop.example or http://localhost:3000, with no path.
console-says-invalid-choices = Write each choice as value|English|Korean, with a key-like value.
console-says-not-found = There is no such item.
console-says-pii-export-owner-only = Exports contain personal data: only owners can download them. Your account can read only.
console-says-required = This field is required.
console-says-too-long = This is too long.
console-says-invalid-key = Use 1 to 64 characters: a-z, 0-9 and _, starting with a letter.
# $purpose is the purpose's key.
console-bundled-consent = Purpose “{ $purpose }” is required, so it cannot rest on consent (PIPA art. 22(5), GDPR art. 7(4)): choose another legal basis (contract, legal obligation, …) or make it optional.
# After the number of people who agreed to one policy version (the page shows the number itself).
console-people = { $count ->
    [one] person
   *[other] people
}

## Console: why a form cannot be published (definition-error-<kind>)
definition-error-field-without-purpose = Field “{ $field }” serves no purpose: choose at least one purpose for every field.
definition-error-duplicate-field = Field “{ $field }” is declared twice.
definition-error-purpose-not-asked = Field “{ $field }” serves “{ $purpose }”, which the form does not ask for: tick it under Purposes asked.
definition-error-unknown-purpose = Purpose “{ $purpose }” does not exist.
definition-error-no-identity = A form needs exactly one required field of type Email (the person's identity).
definition-error-select-without-choices = Field “{ $field }” is a choice list without choices.
definition-error-no-purposes = A form must ask for at least one purpose.

## Console: consent states in words (data-state-<state>)
data-state-granted = granted
data-state-pending = pending (awaiting confirmation)
data-state-withdrawn = withdrawn
data-state-expired = expired
data-state-never = never given

## Mail
mail-footer = You receive this because this address was entered in a form that uses Assent. If that was not you, ignore this mail: nothing happens without your click.
mail-sign-in-subject = Your link to manage your data
mail-sign-in-body = Use this link to see, change, export or delete the data we hold about you and your consents. It works once and for 15 minutes.
mail-sign-in-action = Open my privacy settings
mail-confirm-subject = Please confirm your subscription
mail-confirm-body = Please confirm that you want to receive: { $list }.
mail-confirm-changes = New details were entered for you: { $list }. Confirming replaces what we hold.
mail-confirm-note = If you do nothing, nothing is sent and the details you entered for this are deleted after 7 days. Not you? Cancel here: { $unsubscribe }
mail-confirm-action = Yes, I confirm
mail-erased-subject = Your data has been deleted
mail-erased-body = As you asked, we have deleted all the personal data we held about you and destroyed the key that protected it. We keep only a record, naming no one, that a deletion took place. This is the last mail you receive from us at this address.
# $since and $until are calendar dates (see `date`).
mail-renewal-subject = Keep "{ $purpose }"? Your consent ends on { $until }
mail-renewal-agreed = On { $since } you agreed to: { $purpose } ({ $wording })
mail-renewal-held = For this we hold: { $held }. This consent ends on { $until }.
mail-renewal-lapse = If you do nothing, it ends on that date and the data kept only for it is deleted automatically.
mail-renewal-decline = Don't extend (end it now and delete that data): { $decline }
mail-renewal-action = Extend for another period
mail-notice-subject = Reminder: you agree to receive "{ $purpose }"
mail-notice-sender = Sender: { $sender }
mail-notice-agreed = On { $since } you agreed to: { $purpose } ({ $wording }).
mail-notice-withdraw = You can withdraw at any time, with one click:
mail-notice-action = Withdraw this consent

## /me history: what happened, and how
me-action-granted = Agreed
me-action-withdrawn = Withdrawn
me-action-renewed = Extended
me-action-expired = Expired
me-action-erased = Deleted
me-action-pending = Waiting for confirmation
me-action-confirmed = Confirmed
me-action-notified = Reminder sent
me-method-form = Form
me-method-api = The site, on your behalf
me-method-preference-center = This page
me-method-email-link = Link in an email
me-method-retention-job = Automatically, at the end of the period
me-method-admin = By the site's staff
me-method-import = Brought in from the site's earlier records

## Purpose categories (Kantara Consent Receipt), named in receipts and the console
purpose-category-core-function = Core function of the service
purpose-category-contracted-service = Contracted service
purpose-category-delivery = Delivery
purpose-category-contact-requested = Contact you asked for
purpose-category-personalised-experience = Personalised experience
purpose-category-marketing = Marketing
purpose-category-marketing-third-parties = Marketing for third parties
purpose-category-sharing-for-delivery = Sharing for delivery
purpose-category-sharing-for-marketing = Sharing for marketing
purpose-category-third-party-sharing-for-core-function = Third-party sharing for the core function
purpose-category-legally-required-retention = Retention required by law
purpose-category-required-by-law-enforcement = Required by law enforcement or government
purpose-category-protecting-your-health = Protecting your health
purpose-category-protecting-our-interests = Protecting our interests
purpose-category-improve-performance = Improving performance
