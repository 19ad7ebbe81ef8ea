lang-name = 日本語
number-group-separator = ,
date = { $year }年{ $month }月{ $day }日
month-1 = 1月
month-2 = 2月
month-3 = 3月
month-4 = 4月
month-5 = 5月
month-6 = 6月
month-7 = 7月
month-8 = 8月
month-9 = 9月
month-10 = 10月
month-11 = 11月
month-12 = 12月

## Workspace texts in the console: one row per offered language
texts-title = タイトル
texts-wording = 同意文言
texts-description = 説明
texts-label = ラベル
texts-default-hint = ワークスペースの既定の言語です。入力は必須です。
texts-optional-hint = 任意です。
texts-untranslated-hint = まだ翻訳されていません。この言語で閲覧する人には { $default } の文言が表示されます。
texts-choices-hint = 1行に選択肢1つ: 値|ラベル。ラベルはこの順に書きます: { $order }（空欄は未翻訳として扱います）。
texts-email-label = メールアドレス

## Policy pages: the wording in each published language
policy-shown-hash = このページに表示された文言のフィンガープリント（SHA-256）
policy-published-in = 公開されている言語

## Retention periods ("1 year 6 months")
retention-years = { $count }年
retention-months = { $count }か月
retention-days = { $count }日
retention-separator = { "" }

## The workspace's languages (console)
nav-languages = 言語
languages-title = 言語
languages-intro = フォーム、設定ページ、メールを提供する言語です。閲覧する人には、ブラウザが求める言語（または本人が選んだ言語）で表示し、翻訳されていない文言は既定の言語で表示します。
languages-col-language = 言語
languages-col-tag = タグ
languages-col-default = 既定
languages-make-default = 既定の言語にする
languages-remove = 提供をやめる
languages-add = この言語を提供する
languages-add-label = 言語を追加
languages-untranslated-title = まだ翻訳されていない文言
languages-untranslated-none = すべての文言が、提供中のすべての言語で書かれています。
languages-col-text = 文言
languages-col-missing = 足りない言語
languages-saved = 言語の設定を保存しました。
languages-purpose-title = 目的 { $purpose }: タイトル
languages-purpose-wording = 目的 { $purpose }: 同意文言
languages-form-text = フォーム { $form }: { $place }
